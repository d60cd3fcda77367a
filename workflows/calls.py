"""What `JourneyWorkflow` asks of the world, apart from its own logic: the patch names its changes
replay around, the retry policies, the store calls (local activities), and the reading of a
held action's delay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import models as act
    from domain.journey import ActionNode, JourneyDefinition

# patches: each names a change to workflow logic that running enrollments must replay around
PROFILE_BEFORE_PROGRESS = "profile-before-progress"
RUN_SCOPED_DELIVERY_KEYS = "run-scoped-delivery-keys"
LOCAL_STORE_CALLS = "local-store-calls"
HELD_ACTIONS = "held-actions"
CANCEL_PENDING_TASKS = "cancel-pending-tasks"
CHANGES_2026_12 = "changes-2026-12"
"""One patch standing for every change above. A run that starts on code that knows them all
records only this marker: each patch costs its run a marker and a search-attribute upsert (the
server's TemporalChangeVersion) in the first workflow task, which the server writes to visibility.
Histories recorded before it carry the individual markers and replay through them (`Changes`)."""
R = TypeVar("R")


class Changes:
    """Which workflow changes this run has: all of them when it started on code that knows
    `CHANGES_2026_12`, else the ones its history marks (the first question decides, once)."""

    def __init__(self) -> None:
        self._all: bool | None = None

    def has(self, patch: str) -> bool:
        if self._all is None:
            self._all = workflow.patched(CHANGES_2026_12)
        return self._all or workflow.patched(patch)


# the store must eventually take our writes: keep retrying, slowly
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
ACTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=act.MAX_ACTION_ATTEMPTS,
    non_retryable_error_types=["PermanentChannelError"],
)


async def store_call(name: str, arg: BaseModel, result_type: type[R], changes: Changes) -> R:
    """Run a store activity (a few MongoDB round trips, idempotent).

    Patched (`LOCAL_STORE_CALLS`) to run as a local activity: it executes inside the workflow task on the worker that
    runs the workflow, without the server's schedule/start/complete round trips and the extra
    workflow task each of those costs. Store calls are short and safe to repeat, which is what
    local activities are for; channel actions stay regular activities on their own queues (rate
    limits, long retries, other workers).
    """
    if changes.has(LOCAL_STORE_CALLS):
        local: R = await workflow.execute_local_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORE_RETRY,
        )
        return local
    result: R = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=STORE_RETRY,
    )
    return result


def issues_mass_messages(definition: JourneyDefinition) -> bool:
    return any(
        isinstance(node, ActionNode) and node.channel == "wecom" and node.action == "mass_message"
        for node in definition.nodes
    )


def held_for(cause: BaseException) -> timedelta | None:
    """How long a held action waits (`activities.gates.held`), or None for any other failure."""
    if not isinstance(cause, ApplicationError) or cause.type != act.HELD_ERROR or not cause.details:
        return None
    details = cause.details[0]
    seconds = details.get("delay_seconds") if isinstance(details, dict) else None
    return timedelta(seconds=float(seconds)) if isinstance(seconds, int | float) else None
