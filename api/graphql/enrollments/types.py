"""Enrollment types: the projection and its earlier runs. What it did (`Transition`,
`Delivery`) is `steps`; its workflow history's types are `api.graphql.history.types`."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.graphql.common import (
    After,
    Connection,
    First,
    described_field,
    described_field_of,
    described_values,
    page_limit,
)
from api.graphql.context import Info
from api.graphql.enrollments.steps import Delivery, Transition
from api.graphql.history.types import EnrollmentHistoryResult, enrollment_history
from api.graphql.journeys.types import Journey
from api.services.history import temporal_ui_url
from domain.enrollments import Enrollment as EnrollmentModel
from domain.enrollments import WaitInfo
from domain.errors import NotFoundError

if TYPE_CHECKING:
    from api.graphql.customers.types import Customer


@described_values(
    ACTIVE="Running: at a node, or waiting (see `wait`).",
    PAUSED="Running but held by an operator: takes no step until resumed; events and timers "
    "that come due meanwhile are handled on resume.",
    CONVERTED="Final: reached a goal node and ended there (see `goalId`).",
    EXITED="Final: ended without converting: at an exit node, on an exit-trigger event, or at a "
    "node with no outgoing edge for the path taken (`exitReason` says which).",
    CANCELLED="Final: cancelled by an operator (`cancelEnrollment` or a bulk cancel); "
    "`exitReason` holds the reason given.",
    FAILED="Final: the journey could not go on (e.g. a loop with no wait, `loop_without_wait`); "
    "`exitReason` says why.",
)
@strawberry.enum(
    description="Where an enrollment stands. `ACTIVE` and `PAUSED` are running; `CONVERTED` "
    "(reached a goal and ended), `EXITED`, `CANCELLED` and `FAILED` are final."
)
class EnrollmentStatus(Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    CONVERTED = "converted"
    EXITED = "exited"
    CANCELLED = "cancelled"
    FAILED = "failed"


@strawberry.type(description="What a waiting enrollment waits for.")
class Wait:
    kind: str = strawberry.field(
        description="`timer` (until `until`), `event` (of `eventType`, until the deadline "
        "`until`) or `action` (a channel action in flight)."
    )
    until: datetime | None = strawberry.field(
        description="When the timer ends, or the deadline of the awaited event."
    )
    event_type: str | None = strawberry.field(description="The awaited event type (`event`).")

    @classmethod
    def of(cls, wait: WaitInfo) -> Wait:
        return cls(kind=wait.kind, until=wait.until, event_type=wait.event_type)


@strawberry.type(
    description="An earlier run of an enrollment: where the journey lets a customer enter again "
    "after exiting, each entry is a new run under the same enrollment id; the enrollment shows "
    "the latest, and each earlier one is kept as last recorded."
)
class EnrollmentRun:
    enrollment_id: strawberry.ID = strawberry.field(description="The enrollment it is a run of.")
    version: int = strawberry.field(description="The journey version it was pinned to.")
    status: EnrollmentStatus = strawberry.field(description="How it ended (or last stood).")
    current_node: str | None = strawberry.field(description="The node it ended on.")
    path: list[str] = strawberry.field(description="The last node ids visited, oldest first.")
    converted_at: datetime | None = strawberry.field(description="When it reached a goal.")
    goal_id: str | None = strawberry.field(description="The goal node it reached.")
    exit_reason: str | None = strawberry.field(description="Why it ended.")
    started_at: datetime = strawberry.field(description="When it started (names the run).")
    ended_at: datetime | None = strawberry.field(description="When it ended.")

    @classmethod
    def of(cls, model: EnrollmentModel) -> EnrollmentRun:
        return cls(
            enrollment_id=strawberry.ID(model.id),
            version=model.version,
            status=EnrollmentStatus(model.status),
            current_node=model.current_node,
            path=list(model.path),
            converted_at=model.converted_at,
            goal_id=model.goal_id,
            exit_reason=model.exit_reason,
            started_at=model.started_at,
            ended_at=model.ended_at,
        )

    @described_field("The run's steps, in order.")
    async def transitions(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Transition]:
        page = await info.context.services.store.enrollments.transitions_for_enrollment(
            info.context.tenant_id,
            self.enrollment_id,
            run_started_at=self.started_at,
            cursor=after,
            limit=page_limit(first),
        )
        return Connection.of(page, Transition.of, after=after)


@strawberry.type(
    description="A customer's walk through one journey version, as last recorded by its "
    "workflow (a MongoDB projection; `history` reads the workflow itself)."
)
class Enrollment:
    id: strawberry.ID = strawberry.field(
        description="`{tenant}:{journey}:{customer}[:{entry key}]`; also the Temporal workflow id. "
        "An entry key that is not a short token (letters, digits, `_.-`, at most 64) appears "
        "hashed (`~` and 32 hex digits); `entryKey` has it as it was."
    )
    journey_id: str = strawberry.field(description="The journey.")
    version: int = strawberry.field(description="The journey version it is pinned to.")
    customer_id: str = strawberry.field(description="The customer it was started for.")
    entry_key: str | None = strawberry.field(
        description="The entry key of a journey that allows concurrent entries (one enrollment "
        "per key, e.g. an order id), as the entry event gave it; null otherwise, and for "
        "enrollments recorded before keys were kept."
    )
    status: EnrollmentStatus = strawberry.field(description="Where it stands.")
    current_node: str | None = strawberry.field(
        description="The node id it is at (or ended on); null before its first step is recorded."
    )
    wait: Wait | None = strawberry.field(description="What it waits for, if it waits.")
    path: list[str] = strawberry.field(
        description="The path taken: the last node ids visited (up to 50), oldest first."
    )
    next_wake_up_at: datetime | None = strawberry.field(
        description="When it wakes up next unless something else wakes it first: the timer's "
        "end, or the deadline of the event it waits for; null when not waiting on time."
    )
    waiting_for_event: str | None = strawberry.field(
        description="The event type it waits for (a `wait_for_event` node), else null."
    )
    converted: bool = strawberry.field(description="Whether it reached a goal.")
    converted_at: datetime | None = strawberry.field(
        description="When it reached a goal (ISO 8601); null when it has not."
    )
    goal_id: str | None = strawberry.field(
        description="The id of the goal node it reached; null when it has not."
    )
    exit_reason: str | None = strawberry.field(
        description="Why it ended: `converted`, `completed` (no edge to follow), the reason of "
        "the exit node or exit trigger, the cancel reason, or `loop_without_wait`; null while "
        "running."
    )
    started_at: datetime = strawberry.field(description="When it started.")
    updated_at: datetime = strawberry.field(description="When its projection was last written.")
    ended_at: datetime | None = strawberry.field(description="When it ended, if it has.")

    @classmethod
    def of(cls, model: EnrollmentModel) -> Enrollment:
        wait = model.wait
        return cls(
            id=strawberry.ID(model.id),
            journey_id=model.journey_id,
            version=model.version,
            customer_id=model.customer_id,
            entry_key=model.entry_key,
            status=EnrollmentStatus(model.status),
            current_node=model.current_node,
            wait=None if wait is None else Wait.of(wait),
            path=list(model.path),
            next_wake_up_at=None if wait is None or not model.running else wait.until,
            waiting_for_event=(
                wait.event_type
                if wait is not None and wait.kind == "event" and model.running
                else None
            ),
            converted=model.converted_at is not None,
            converted_at=model.converted_at,
            goal_id=model.goal_id,
            exit_reason=model.exit_reason,
            started_at=model.started_at,
            updated_at=model.updated_at,
            ended_at=model.ended_at,
        )

    @described_field("The journey, or null if it no longer exists.")
    async def journey(self, info: Info) -> Journey | None:
        try:
            model = await info.context.services.store.journeys.get(
                info.context.tenant_id, self.journey_id
            )
        except NotFoundError:
            return None
        return Journey.of(model)

    @described_field(
        "The enrolled customer as recorded (if it was since merged, `mergedInto` says into whom)."
    )
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("api.graphql.customers.types")] | None:
        from api.graphql.customers.types import Customer

        model = await info.context.loaders.customers.load(self.customer_id)
        return None if model is None else Customer.of(model)

    @described_field(
        "The enrollment's earlier runs, oldest first: a customer who re-entered the journey "
        "after exiting (re-entry `after_exit`) walks it again under the same id; the fields "
        "above show the latest run."
    )
    async def previous_runs(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[EnrollmentRun]:
        page = await info.context.services.store.enrollments.runs(
            info.context.tenant_id, self.id, cursor=after, limit=page_limit(first)
        )
        return Connection.of(page, EnrollmentRun.of, after=after)

    @described_field("Steps taken in the current run, in order.")
    async def transitions(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Transition]:
        limit = page_limit(first)
        if after is None:
            page = await info.context.loaders.enrollment_transitions.load((self.id, limit))
        else:
            page = await info.context.services.store.enrollments.transitions_for_enrollment(
                info.context.tenant_id, self.id, cursor=after, limit=limit
            )
        return Connection.of(page, Transition.of, after=after)

    @described_field_of("Channel actions, oldest first.", Connection[Delivery])
    def deliveries(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Delivery] | Awaitable[Connection[Delivery]]:
        # synchronous when the list was read ahead (`api.graphql.loaders`), else awaitable
        limit = page_limit(first)
        if after is None:
            page = info.context.loaders.peek_enrollment_deliveries((self.id, limit))
            if page is not None:
                return Connection.of(page, Delivery.of)
        return self._deliveries(info, limit, after)

    async def _deliveries(self, info: Info, limit: int, after: str | None) -> Connection[Delivery]:
        if after is None:
            page = await info.context.loaders.enrollment_deliveries.load((self.id, limit))
        else:
            page = await info.context.services.store.deliveries.list_for_enrollment(
                info.context.tenant_id, self.id, cursor=after, limit=limit
            )
        return Connection.of(page, Delivery.of, after=after)

    @described_field(
        "The enrollment's workflow in the Temporal Web UI (all its runs); null when no UI is "
        "configured."
    )
    def temporal_ui_url(self, info: Info) -> str | None:
        services = info.context.services
        return temporal_ui_url(services.temporal_ui_url, services.temporal.namespace, self.id)

    @described_field(
        "The Temporal workflow history of this enrollment, fetched from the Temporal server and "
        "told as readable steps. One request to Temporal per enrollment asked for: ask for it "
        "on one enrollment, not on a list. Costs 1000 in the complexity limit (so at most nine "
        "in one request; more is refused with `QUERY_TOO_COMPLEX`)."
    )
    async def history(
        self,
        info: Info,
        include_raw_events: Annotated[
            bool,
            strawberry.argument(description="Also return the raw history events as JSON."),
        ] = False,
        run_id: Annotated[
            str | None,
            strawberry.argument(
                description="Read this run (e.g. a `continuedFromRunId`); default: the latest."
            ),
        ] = None,
    ) -> EnrollmentHistoryResult:
        return await enrollment_history(
            info, self.id, run_id=run_id, include_raw_events=include_raw_events
        )
