"""GraphQL types of an enrollment's Temporal workflow history (`api.services.history` renders it).

`HistoryStepKind` is the service's `StepKind` itself, described by each kind's `description`, so
the kinds are written once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import described_values
from api.graphql.context import Info
from api.services import history as histories
from api.services.history import StepKind

described_values(**{kind.name: kind.description for kind in StepKind})(
    strawberry.enum(
        StepKind,
        name="HistoryStepKind",
        description="What a step of a workflow history is: the workflow's start and end "
        "(`WORKFLOW_*`, `CONTINUED_AS_NEW`), activities (`ACTIVITY_*`), timers (`TIMER_*`), signals "
        "and updates received, the node and status it recorded (`STATE_RECORDED`), and workflow "
        "tasks that failed (e.g. a nondeterminism error after a code change).",
    )
)


@strawberry.type(
    description="One readable step of the workflow history (workflow-task bookkeeping, markers "
    "and activity starts are left out; they are in the raw events)."
)
class HistoryStep:
    event_id: int = strawberry.field(description="The Temporal history event it comes from.")
    at: datetime = strawberry.field(description="When Temporal recorded it.")
    kind: StepKind = strawberry.field(description="What the step is.")
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
            kind=step.kind,
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


async def enrollment_history(
    info: Info, enrollment_id: str, *, run_id: str | None, include_raw_events: bool
) -> EnrollmentHistoryResult:
    """One run of the enrollment's workflow history, or why Temporal has none to show."""
    services = info.context.services
    try:
        found = await histories.enrollment_history(
            services.temporal,
            enrollment_id,
            run_id=run_id,
            include_raw_events=include_raw_events,
            ui_base_url=services.temporal_ui_url,
        )
    except histories.HistoryUnavailableError as exc:
        return HistoryUnavailable(message=str(exc))
    return EnrollmentHistory.of(found)
