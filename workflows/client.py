"""Start, signal and inspect journey workflows; kept apart from the workflow code itself.

Enrollment id = workflow id = `{tenant}:{journey}:{customer}` (plus `:{entry key}` where the
journey allows concurrent entries; a key that is not a short token is hashed into it, see
`domain.routing.entry_key_segment`, and the readable key travels in `EnrollmentRef.entry_key`
to the projection; search attributes never carry it, as it may be customer data). Which journeys
an event enters, and with which key, is decided in `domain.routing`. The re-entry policy maps
onto Temporal's id reuse policy:

| policy      | reuse policy             | effect                                             |
|-------------|--------------------------|----------------------------------------------------|
| never       | REJECT_DUPLICATE         | one enrollment per customer, ever                  |
| after_exit  | ALLOW_DUPLICATE          | a new run once the previous one has closed         |
| concurrent  | ALLOW_DUPLICATE + key    | one enrollment per entry key                       |

An event that enrolls uses signal-with-start: if the enrollment is already running, the event is
delivered to it instead (and de-duplicated there by event id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.models import JOURNEYS_TASK_QUEUE, EnrollmentRef
from domain.engine import EventRef
from domain.enrollments import enrollment_id
from domain.routing import ReentryMode, id_entry_key
from workflows import search_attributes as sa
from workflows.journey import JourneyWorkflow
from workflows.models import (
    CancelInput,
    EnrollmentView,
    EventSignal,
    JourneyInput,
    MigrateInput,
    PauseInput,
)

_REUSE = {
    "never": WorkflowIDReusePolicy.REJECT_DUPLICATE,
    "after_exit": WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    "concurrent": WorkflowIDReusePolicy.ALLOW_DUPLICATE,
}


@dataclass(frozen=True)
class EnrollOutcome:
    """What happened to an enrollment request."""

    enrollment_id: str
    status: Literal["started", "delivered", "already_enrolled"]


async def enroll(
    client: Client,
    *,
    tenant_id: str,
    journey_id: str,
    version: int,
    customer_id: str,
    reentry: ReentryMode = "never",
    entry_key: str | None = None,
    entry_event: EventRef | None = None,
    continue_as_new_after: int | None = None,
    workflow_id: str | None = None,
) -> EnrollOutcome:
    """Start an enrollment (signal-with-start when an event enrolls the customer).

    `workflow_id` overrides the computed id: an enrollment running under an id given before
    entry keys were hashed (`domain.routing.legacy_enrollment_id`) keeps it."""
    key = id_entry_key(reentry, entry_key)
    if workflow_id is None:
        workflow_id = enrollment_id(tenant_id, journey_id, customer_id, key)
    ref = EnrollmentRef(
        tenant_id=tenant_id,
        journey_id=journey_id,
        version=version,
        customer_id=customer_id,
        enrollment_id=workflow_id,
        entry_key=key,
    )
    start_input = JourneyInput(
        enrollment=ref,
        entry_event_id=entry_event.id if entry_event else None,
        continue_as_new_after=continue_as_new_after,
    )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(sa.TENANT, tenant_id),
            SearchAttributePair(sa.JOURNEY, journey_id),
            SearchAttributePair(sa.STATUS, "active"),
        ]
    )
    try:
        handle = await client.start_workflow(
            JourneyWorkflow.run,
            start_input,
            id=workflow_id,
            task_queue=JOURNEYS_TASK_QUEUE,
            id_reuse_policy=_REUSE[reentry],
            search_attributes=attributes,
            start_signal="event" if entry_event else None,
            start_signal_args=[EventSignal(event=entry_event)] if entry_event else [],
        )
    except WorkflowAlreadyStartedError:
        return EnrollOutcome(workflow_id, "already_enrolled")
    del handle
    # signal-with-start does not say whether it started a run or signalled a running one
    return EnrollOutcome(workflow_id, "delivered" if entry_event else "started")


def handle_for(client: Client, workflow_id: str) -> WorkflowHandle[JourneyWorkflow, object]:
    return client.get_workflow_handle_for(JourneyWorkflow.run, workflow_id)


async def signal_event(client: Client, workflow_id: str, event: EventRef) -> bool:
    """Deliver an event to a running enrollment; False when it is not running any more."""
    try:
        await handle_for(client, workflow_id).signal(
            JourneyWorkflow.event, EventSignal(event=event)
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def pause(client: Client, workflow_id: str, reason: str | None = None) -> None:
    await handle_for(client, workflow_id).signal(JourneyWorkflow.pause, PauseInput(reason=reason))


async def resume(client: Client, workflow_id: str) -> None:
    await handle_for(client, workflow_id).signal(JourneyWorkflow.resume)


async def migrate(client: Client, workflow_id: str, version: int, mapping: dict[str, str]) -> None:
    """Ask a running enrollment to move to `version` (`JourneyWorkflow.migrate`)."""
    await handle_for(client, workflow_id).signal(
        JourneyWorkflow.migrate, MigrateInput(version=version, mapping=mapping)
    )


async def cancel(client: Client, workflow_id: str, reason: str = "cancelled") -> None:
    await handle_for(client, workflow_id).signal(JourneyWorkflow.cancel, CancelInput(reason=reason))


async def live_state(client: Client, workflow_id: str) -> EnrollmentView:
    """The workflow's own view (a query), fresher than the MongoDB projection."""
    return await handle_for(client, workflow_id).query(JourneyWorkflow.state)
