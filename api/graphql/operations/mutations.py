"""Bulk pause/resume/cancel of a journey's enrollments, segment entry, and test events."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.auth import Permission
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.customers.queries import CustomerFilter, customer_search
from api.graphql.events.types import EventIngestResult
from api.graphql.operations.types import BulkOperation
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from store.operations import OperationKind

MAX_PER_SECOND = 1000.0

JourneyArg = Annotated[
    strawberry.ID, strawberry.argument(description="The journey whose enrollments to operate on.")
]
VersionArg = Annotated[
    int | None,
    strawberry.argument(description="Only enrollments pinned to this version; default: all."),
]

StartOperationResult = Annotated[
    BulkOperation | NotFound | Forbidden,
    strawberry.union(
        "StartOperationResult",
        description="`BulkOperation`, started (`PENDING`); `NotFound` for an unknown journey; "
        "`Forbidden` without the `manage_enrollments` permission (operator or admin).",
    ),
]
EnrollSegmentResult = Annotated[
    BulkOperation | NotFound | Conflict | InvalidInput | Forbidden,
    strawberry.union(
        "EnrollSegmentResult",
        description="`BulkOperation` (kind `ENROLL`), started; `NotFound` for an unknown "
        "journey; `Conflict` when it is not published; `InvalidInput` for a bad filter or pace; "
        "`Forbidden` without `manage_enrollments` (operator or admin).",
    ),
]
SendTestEventResult = Annotated[
    EventIngestResult | InvalidInput | NotFound | Conflict | Forbidden,
    strawberry.union(
        "SendTestEventResult",
        description="`EventIngestResult` of the stored and routed event; `InvalidInput` for a "
        "malformed type or properties; `NotFound` for an unknown customer; `Conflict` when the "
        "customer has no identity to name them by; `Forbidden` without `ingest_events`.",
    ),
]


async def _start(
    info: Info,
    kind: OperationKind,
    journey_id: str,
    version: int | None,
    reason: str | None,
) -> StartOperationResult:
    if not info.context.can(Permission.MANAGE_ENROLLMENTS):
        return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
    try:
        model = await info.context.services.operations.start(
            info.context.tenant_id,
            kind,
            journey_id,
            created_by=info.context.principal.key_id,
            version=version,
            reason=reason,
        )
    except NotFoundError as exc:
        return NotFound.of(exc)
    return BulkOperation.of(model)


@strawberry.type
class OperationMutations:
    @described_mutation(
        "Pause every active enrollment of the journey (of one version when given), as a tracked "
        "operation running in the background; answers it `PENDING`. Needs an operator or admin "
        "key (`manage_enrollments`)."
    )
    async def pause_journey_enrollments(
        self,
        info: Info,
        journey_id: JourneyArg,
        version: VersionArg = None,
        reason: Annotated[
            str | None, strawberry.argument(description="Kept on the operation, for the record.")
        ] = None,
    ) -> StartOperationResult:
        return await _start(info, "pause", journey_id, version, reason)

    @described_mutation(
        "Resume every paused enrollment of the journey (of one version when given), as a tracked "
        "operation running in the background; answers it `PENDING`. Needs an operator or admin "
        "key (`manage_enrollments`)."
    )
    async def resume_journey_enrollments(
        self, info: Info, journey_id: JourneyArg, version: VersionArg = None
    ) -> StartOperationResult:
        return await _start(info, "resume", journey_id, version, None)

    @described_mutation(
        "Cancel every running (active or paused) enrollment of the journey (of one version when "
        "given), as a tracked operation running in the background; answers it `PENDING`. Needs "
        "an operator or admin key (`manage_enrollments`)."
    )
    async def cancel_journey_enrollments(
        self,
        info: Info,
        journey_id: JourneyArg,
        reason: Annotated[
            str, strawberry.argument(description="Why; each enrollment exits with it.")
        ],
        version: VersionArg = None,
    ) -> StartOperationResult:
        return await _start(info, "cancel", journey_id, version, reason)

    @described_mutation(
        "Segment entry: enroll every customer matching `filter` (the `customers` filter) in the "
        "journey, on its live version and as its re-entry policy allows, as a tracked operation "
        "running in the background, at most `perSecond` enrollments a second; follow it with "
        "`operation(id)` or `operationProgress(id)`. The segment is read as the operation goes. "
        "Needs an operator or admin key (`manage_enrollments`)."
    )
    async def enroll_segment(
        self,
        info: Info,
        journey_id: Annotated[strawberry.ID, strawberry.argument(description="The journey.")],
        filter: Annotated[
            CustomerFilter | None,
            strawberry.argument(description="Who to enroll; every customer when omitted."),
        ] = None,
        per_second: Annotated[
            float | None,
            strawberry.argument(
                description=f"Enrollments started per second, up to {MAX_PER_SECOND:g}; "
                "default: as fast as it goes."
            ),
        ] = None,
    ) -> EnrollSegmentResult:
        if not info.context.can(Permission.MANAGE_ENROLLMENTS):
            return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
        if per_second is not None and not 0 < per_second <= MAX_PER_SECOND:
            return InvalidInput.of(
                InvalidInputError.single(
                    "perSecond", f"must be above 0 and at most {MAX_PER_SECOND:g}"
                )
            )
        search = customer_search(filter)
        try:
            model = await info.context.services.operations.start(
                info.context.tenant_id,
                "enroll",
                journey_id,
                created_by=info.context.principal.key_id,
                segment=dataclasses.asdict(search),
                per_second=per_second,
            )
        except NotFoundError as exc:
            return NotFound.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return BulkOperation.of(model)

    @described_mutation(
        "Send an event for a customer, through ingestion like any event (stored, routed to "
        "journeys), with `test: true` added to its properties. Answers the ingestion result. "
        "Needs an operator or admin key (`ingest_events`)."
    )
    async def send_test_event(
        self,
        info: Info,
        customer_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The customer; the event names them by an identity."),
        ],
        type: Annotated[str, strawberry.argument(description="The event type, e.g. `order.paid`.")],
        properties: Annotated[
            JSON | None,
            strawberry.argument(description="A JSON object; `test: true` is added (or forced)."),
        ] = None,
    ) -> SendTestEventResult:
        if not info.context.can(Permission.INGEST_EVENTS):
            return Forbidden.of(Permission.INGEST_EVENTS)
        if properties is not None and not isinstance(properties, dict):
            message = "properties must be a JSON object"
            return InvalidInput.single("properties", message)
        try:
            result = await info.context.services.operations.send_test_event(
                info.context.tenant_id, customer_id, type, properties or {}
            )
        except NotFoundError as exc:
            return NotFound.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        if result.status == "rejected":
            return InvalidInput.of(
                InvalidInputError(result.errors), message="the event is malformed"
            )
        return EventIngestResult.of(result)
