"""Operation types: a bulk operation with its progress."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from store.operations import BulkOperation as BulkOperationModel


@strawberry.enum(description="What a bulk operation does to each enrollment it selects.")
class OperationKind(Enum):
    """What a bulk operation does to each enrollment it selects."""

    PAUSE = strawberry.enum_value(
        "pause",
        description="Pause every `ACTIVE` enrollment: it stops where it is (timers keep "
        "running) until resumed.",
    )
    RESUME = strawberry.enum_value(
        "resume", description="Resume every `PAUSED` enrollment from where it stopped."
    )
    CANCEL = strawberry.enum_value(
        "cancel",
        description="Cancel every `ACTIVE` or `PAUSED` enrollment; each ends `CANCELLED` with "
        "the operation's reason.",
    )
    MIGRATE = strawberry.enum_value(
        "migrate",
        description="Live migration (`migrateEnrollments`): move every `ACTIVE` or `PAUSED` "
        "enrollment of `version` to another version at its mapped node.",
    )
    ENROLL = strawberry.enum_value(
        "enroll",
        description="Segment entry (`enrollSegment`): enroll every customer matching a customer "
        "filter on the journey's live version, paced; its counts are customers (done: enrolled, "
        "skipped: the re-entry policy kept them out).",
    )
    SIMULATE = strawberry.enum_value(
        "simulate",
        description="Journey simulation (`simulateJourney`): a cohort run through the journey "
        "under a virtual clock, nothing sent; its counts are customers (done: simulated); the "
        "result is read with `simulation(id)`.",
    )


@strawberry.enum(
    description="Where a bulk operation stands: `PENDING` and `RUNNING` are in progress; "
    "`SUCCEEDED` and `FAILED` are final."
)
class OperationStatus(Enum):
    """`PENDING` and `RUNNING` are in progress; `SUCCEEDED` (every enrollment handled) and
    `FAILED` (some could not be signalled, or the operation broke: see `errors`, `error`) are
    final."""

    PENDING = strawberry.enum_value(
        "pending", description="Accepted, not yet picked up by a process."
    )
    RUNNING = strawberry.enum_value(
        "running", description="Signalling the selected enrollments; `percent` shows progress."
    )
    SUCCEEDED = strawberry.enum_value(
        "succeeded", description="Final: every selected enrollment was signalled or skipped."
    )
    FAILED = strawberry.enum_value(
        "failed",
        description="Final: some enrollments could not be signalled (see `errors`) or the "
        "operation itself broke (see `error`).",
    )


@strawberry.type(description="Why one enrollment could not be operated on.")
class OperationError:
    """Why one enrollment could not be operated on."""

    enrollment_id: str = strawberry.field(description="The enrollment (workflow) id.")
    message: str = strawberry.field(description="What the workflow service answered.")


@strawberry.type(
    description="A tracked operation over the enrollments of a journey. It selects the "
    "enrollments in the right state when it starts (`ACTIVE` to pause, `PAUSED` to resume, both "
    "to cancel) and signals each workflow. Follow it with the `operation(id)` query or the "
    "`operationProgress(id)` subscription."
)
class BulkOperation:
    """A tracked operation over the enrollments of a journey.

    It selects the enrollments the projection shows in the right state when it starts (`ACTIVE`
    to pause, `PAUSED` to resume, both to cancel) and signals each workflow. Follow it with the
    `operation(id)` query or the `operationProgress(id)` subscription.
    """

    id: strawberry.ID = strawberry.field(description="The operation id.")
    kind: OperationKind = strawberry.field(description="What it does to each enrollment.")
    journey_id: strawberry.ID = strawberry.field(description="The journey it operates on.")
    version: int | None = strawberry.field(
        description="Only enrollments on this journey version; null for every version."
    )
    reason: str | None = strawberry.field(
        description="Why, as given (a cancelled enrollment exits with it)."
    )
    per_second: float | None = strawberry.field(
        description="`ENROLL`: enrollments started per second, at most; null: as fast as it goes."
    )
    status: OperationStatus = strawberry.field(description="Where it stands.")
    total: int = strawberry.field(description="Enrollments selected.")
    done: int = strawberry.field(description="Enrollments signalled.")
    skipped: int = strawberry.field(
        description="Enrollments that ended before they could be signalled."
    )
    failed: int = strawberry.field(description="Enrollments that could not be signalled.")
    percent: float = strawberry.field(
        description="(done + skipped + failed) / total * 100, one decimal; 100 when finished."
    )
    errors: list[OperationError] = strawberry.field(description="The first 20 failures.")
    error: str | None = strawberry.field(description="Why the operation itself failed, if it did.")
    created_by: str = strawberry.field(description="The id of the API key that started it.")
    created_at: datetime = strawberry.field(description="When it was asked for (ISO 8601).")
    started_at: datetime | None = strawberry.field(
        description="When a process began running it (ISO 8601); null while `PENDING`."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it ended (ISO 8601); null while in progress."
    )

    @classmethod
    def of(cls, model: BulkOperationModel) -> BulkOperation:
        if model.finished:
            percent = 100.0
        elif model.total:
            percent = min(100.0, round(model.handled * 100 / model.total, 1))
        else:
            percent = 0.0
        return cls(
            id=strawberry.ID(model.id),
            kind=OperationKind(model.kind),
            journey_id=strawberry.ID(model.journey_id),
            version=model.version,
            reason=model.reason,
            per_second=model.per_second,
            status=OperationStatus(model.status),
            total=model.total,
            done=model.done,
            skipped=model.skipped,
            failed=model.failed,
            percent=percent,
            errors=[
                OperationError(enrollment_id=e.enrollment_id, message=e.message)
                for e in model.errors
            ],
            error=model.error,
            created_by=model.created_by,
            created_at=model.created_at,
            started_at=model.started_at,
            finished_at=model.finished_at,
        )
