"""Enrollment types: the projection, its transitions, its deliveries and its workflow history."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import (
    After,
    Connection,
    First,
    described_field,
    described_values,
    page_limit,
)
from api.graphql.context import Info
from api.graphql.journeys.types import Journey
from api.services import history as histories
from api.services.history import temporal_ui_url
from domain.deliveries import Delivery as DeliveryModel
from domain.enrollments import Enrollment as EnrollmentModel
from domain.enrollments import Transition as TransitionModel
from domain.enrollments import WaitInfo
from domain.errors import NotFound

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


@strawberry.type(description="One step of an enrollment: from a node to another along an edge.")
class Transition:
    seq: int = strawberry.field(description="Step number within the enrollment's run, from 0.")
    from_node: str | None = strawberry.field(description="The node left; null for the entry.")
    to_node: str | None = strawberry.field(description="The node reached; null when it ended.")
    label: str = strawberry.field(
        description="The edge taken (`next`, `matched`, `timed_out`, a branch label...)."
    )
    at: datetime = strawberry.field(description="When the step was taken (workflow time).")
    reason: str | None = strawberry.field(description="Why, when the step ended the enrollment.")
    enrollment_id: str = strawberry.field(description="The enrollment it belongs to.")
    journey_id: str = strawberry.field(description="The journey.")
    version: int = strawberry.field(description="The journey version.")

    @classmethod
    def of(cls, model: TransitionModel) -> Transition:
        return cls(
            seq=model.seq,
            from_node=model.from_node,
            to_node=model.to_node,
            label=model.label,
            at=model.at,
            reason=model.reason,
            enrollment_id=model.enrollment_id,
            journey_id=model.journey_id,
            version=model.version,
        )


@strawberry.type(description="One channel action performed (or attempted) for an enrollment step.")
class Delivery:
    idempotency_key: str = strawberry.field(
        description="`<enrollment>/<node>/<visit>`: the action is performed at most once per key."
    )
    enrollment_id: str = strawberry.field(description="The enrollment it was performed for.")
    journey_id: str = strawberry.field(description="The journey.")
    node_id: str = strawberry.field(description="The action node.")
    channel: str = strawberry.field(description="The channel (`sandbox`, `webhook`, `wecom`...).")
    action: str = strawberry.field(description="The channel's action (`send_message`...).")
    status: str = strawberry.field(description="`pending`, `succeeded` or `failed`.")
    attempts: int = strawberry.field(description="Finished attempts, failed or not.")
    external_id: str | None = strawberry.field(
        description="The channel's id for what it did (message id, task id)."
    )
    error: str | None = strawberry.field(description="The last failure's message, if any.")
    detail: JSON = strawberry.field(description="What the channel reported, as JSON.")
    created_at: datetime = strawberry.field(description="When it was first attempted.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")

    @classmethod
    def of(cls, model: DeliveryModel) -> Delivery:
        return cls(
            idempotency_key=model.idempotency_key,
            enrollment_id=model.enrollment_id,
            journey_id=model.journey_id,
            node_id=model.node_id,
            channel=model.channel,
            action=model.action,
            status=model.status,
            attempts=model.attempts,
            external_id=model.external_id,
            error=model.error,
            detail=JSON(dict(model.detail)),
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@strawberry.enum(
    description="What a step of a workflow history is: the workflow's start and end "
    "(`WORKFLOW_*`, `CONTINUED_AS_NEW`), activities (`ACTIVITY_*`), timers (`TIMER_*`), signals "
    "and updates received, the node and status it recorded (`STATE_RECORDED`), and workflow "
    "tasks that failed (e.g. a nondeterminism error after a code change)."
)
class HistoryStepKind(Enum):
    WORKFLOW_STARTED = strawberry.enum_value(
        "WORKFLOW_STARTED", description="The enrollment's workflow run started."
    )
    WORKFLOW_COMPLETED = strawberry.enum_value(
        "WORKFLOW_COMPLETED",
        description="The run ended normally; the summary carries the final status and reason.",
    )
    WORKFLOW_FAILED = strawberry.enum_value(
        "WORKFLOW_FAILED", description="The run ended with an error; the summary carries it."
    )
    WORKFLOW_TERMINATED = strawberry.enum_value(
        "WORKFLOW_TERMINATED",
        description="The run was terminated from outside (e.g. with the Temporal CLI or UI).",
    )
    WORKFLOW_CANCELLED = strawberry.enum_value(
        "WORKFLOW_CANCELLED", description="The run ended by honouring a Temporal cancellation."
    )
    WORKFLOW_TIMED_OUT = strawberry.enum_value(
        "WORKFLOW_TIMED_OUT", description="The run hit its Temporal execution timeout."
    )
    CONTINUED_AS_NEW = strawberry.enum_value(
        "CONTINUED_AS_NEW",
        description="The run handed over to a fresh run of the same enrollment (to keep the "
        "history short); read that run by its id for what followed.",
    )
    CANCEL_REQUESTED = strawberry.enum_value(
        "CANCEL_REQUESTED", description="A Temporal cancellation of the run was requested."
    )
    ACTIVITY_SCHEDULED = strawberry.enum_value(
        "ACTIVITY_SCHEDULED",
        description="An activity (a channel action, a store call) was scheduled; see `activity`.",
    )
    ACTIVITY_COMPLETED = strawberry.enum_value(
        "ACTIVITY_COMPLETED",
        description="An activity succeeded; `attempt` says on which try.",
    )
    ACTIVITY_FAILED = strawberry.enum_value(
        "ACTIVITY_FAILED",
        description="An activity failed for good (retries exhausted or a non-retryable error); "
        "the summary carries the error.",
    )
    ACTIVITY_TIMED_OUT = strawberry.enum_value(
        "ACTIVITY_TIMED_OUT", description="An activity ran out of time on its last attempt."
    )
    ACTIVITY_CANCELLED = strawberry.enum_value(
        "ACTIVITY_CANCELLED", description="An activity was cancelled before it finished."
    )
    TIMER_STARTED = strawberry.enum_value(
        "TIMER_STARTED",
        description="A timer was started (a wait node, an event-wait deadline, quiet hours); "
        "the summary gives its duration.",
    )
    TIMER_FIRED = strawberry.enum_value("TIMER_FIRED", description="A timer ran out.")
    TIMER_CANCELLED = strawberry.enum_value(
        "TIMER_CANCELLED",
        description="A timer was dropped before it fired (e.g. the awaited event arrived first).",
    )
    SIGNAL_RECEIVED = strawberry.enum_value(
        "SIGNAL_RECEIVED",
        description="A signal reached the workflow: a customer event, pause, resume or cancel.",
    )
    STATE_RECORDED = strawberry.enum_value(
        "STATE_RECORDED",
        description="The workflow recorded its current node and status (search attributes).",
    )
    UPDATE = strawberry.enum_value(
        "UPDATE", description="A Temporal update was accepted or completed."
    )
    WORKFLOW_TASK_FAILED = strawberry.enum_value(
        "WORKFLOW_TASK_FAILED",
        description="The workflow code failed to make progress (e.g. a nondeterminism error "
        "after a code change); Temporal retries it, so the enrollment is stuck until fixed.",
    )


@strawberry.type(
    description="One readable step of the workflow history (workflow-task bookkeeping, markers "
    "and activity starts are left out; they are in the raw events)."
)
class HistoryStep:
    event_id: int = strawberry.field(description="The Temporal history event it comes from.")
    at: datetime = strawberry.field(description="When Temporal recorded it.")
    kind: HistoryStepKind = strawberry.field(description="What the step is.")
    summary: str = strawberry.field(
        description="One line for people, e.g. `activity channel.sandbox.send_message (node "
        "welcome) failed on attempt 2: ...`, `timer fired after 3d`, `signal event received: "
        "order.paid (event o1)`."
    )
    activity: str | None = strawberry.field(
        description="For activity steps: the activity, channel actions named "
        "`channel.<channel>.<action> (node <id>)`."
    )
    attempt: int | None = strawberry.field(
        description="For finished activities: the attempt it finished on."
    )
    failure: str | None = strawberry.field(description="The failure message, if the step failed.")

    @classmethod
    def of(cls, step: histories.HistoryStep) -> HistoryStep:
        return cls(
            event_id=step.event_id,
            at=step.at,
            kind=HistoryStepKind(step.kind),
            summary=step.summary,
            activity=step.activity,
            attempt=step.attempt,
            failure=step.failure,
        )


@strawberry.type(
    description="One run of the enrollment's Temporal workflow, read from the Temporal server. "
    "A long enrollment continues as new now and then; each run has its own history, and "
    "`continuedFromRunId` names the run before this one (ask `history(runId: ...)` for it)."
)
class EnrollmentHistory:
    workflow_id: str = strawberry.field(description="The workflow id (the enrollment id).")
    run_id: str = strawberry.field(description="This run's id.")
    continued_from_run_id: str | None = strawberry.field(
        description="The run this one continued (continue-as-new); null for the first run."
    )
    namespace: str = strawberry.field(description="The Temporal namespace.")
    event_count: int = strawberry.field(description="History events in this run.")
    steps: list[HistoryStep] = strawberry.field(description="The readable steps, in order.")
    raw_events: JSON | None = strawberry.field(
        description="The run's history events as Temporal's JSON (protobuf JSON mapping), when "
        "`includeRawEvents` is true; else null."
    )
    temporal_ui_url: str | None = strawberry.field(
        description="This run's history in the Temporal Web UI; null when no UI is configured."
    )

    @classmethod
    def of(cls, history: histories.EnrollmentHistory) -> EnrollmentHistory:
        return cls(
            workflow_id=history.workflow_id,
            run_id=history.run_id,
            continued_from_run_id=history.continued_from_run_id,
            namespace=history.namespace,
            event_count=history.event_count,
            steps=[HistoryStep.of(step) for step in history.steps],
            raw_events=None if history.raw_events is None else JSON(history.raw_events),
            temporal_ui_url=history.ui_url,
        )


@strawberry.type(
    description="Temporal has no history to show: the workflow never started, its retention "
    "period has passed, or the server could not be reached."
)
class HistoryUnavailable:
    message: str = strawberry.field(description="Which of these it is.")


EnrollmentHistoryResult = Annotated[
    EnrollmentHistory | HistoryUnavailable,
    strawberry.union(
        "EnrollmentHistoryResult",
        description="`EnrollmentHistory` of one workflow run, or `HistoryUnavailable` when "
        "Temporal has none to show.",
    ),
]


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
        except NotFound:
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

    @described_field("Channel actions, oldest first.")
    async def deliveries(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Delivery]:
        limit = page_limit(first)
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
        services = info.context.services
        try:
            found = await histories.enrollment_history(
                services.temporal,
                self.id,
                run_id=run_id,
                include_raw_events=include_raw_events,
                ui_base_url=services.temporal_ui_url,
            )
        except histories.HistoryUnavailable as exc:
            return HistoryUnavailable(message=str(exc))
        return EnrollmentHistory.of(found)
