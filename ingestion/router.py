"""Routing one stored event: `domain.routing` decides, `Router` reads what it needs and acts.

Before routing, the customer's unsettled merges are settled (`MergeService.settle`), so no
journey is walked twice after a merge. Then each entered journey is joined by signal-with-start
(`workflows.client.enroll`, pinned to the live version; on a running enrollment it only delivers
the event, on a closed `never` one it is refused: `already_enrolled`), unless an enrollment of a
customer merged into this one stands in; then each listening running enrollment is signalled.

Enrollment ids: a long entry key is hashed into the id (`domain.routing.entry_key_segment`);
an enrollment still running under the id an older release gave it (the key as it is) keeps
getting its key's events, found through its projection.

Limits: an event routed in part (say, enrolled in one journey, then a crash) whose enrollment has
since closed re-enters a journey whose re-entry is `after_exit` or `concurrent` when routed again.
"""

from __future__ import annotations

from temporalio.client import Client

from domain import routing
from domain.customers import Customer
from domain.engine import EventRef
from domain.events import Event
from ingestion.clock import Clock, utc_now
from ingestion.merges import MergeService
from ingestion.results import IngestResult, RouteAction, RouteOutcome
from store.database import Store
from workflows import client as journeys_client


class Router:
    """Routes stored events to journeys (module docstring); raises what it could not do."""

    def __init__(
        self,
        store: Store,
        temporal: Client,
        clock: Clock = utc_now,
        merges: MergeService | None = None,
    ) -> None:
        self._store = store
        self._temporal = temporal
        self._clock = clock
        self._merges = merges or MergeService(store, temporal, clock)

    async def route(
        self, tenant_id: str, event: Event, customer: Customer, result: IngestResult
    ) -> None:
        """Enter the journeys the event enters and signal the enrollments listening for it,
        adding what was done to `result.routes` (and why a journey was not entered to
        `result.notes`)."""
        ref = EventRef(
            id=event.id, type=event.type, properties=event.properties, occurred_at=event.timestamp
        )
        await self._merges.settle(tenant_id, customer.id)  # no journey walked twice after a merge
        reached: set[str] = set()
        matches = await self._store.journeys.find_published_entry_matches(tenant_id, event.type)
        for version in matches:
            decision = routing.entry(
                version.journey_id, version.version, version.definition, event.properties
            )
            if isinstance(decision, routing.NotEntered):
                result.notes.append(decision.note)
            if not isinstance(decision, routing.Enter):
                continue
            outcome = await self._enter(tenant_id, decision, customer, ref)
            reached.add(outcome.enrollment_id)
            result.routes.append(outcome)
        running = await self._store.enrollments.running_for_customer(tenant_id, customer.id)
        listened = {
            key: (await self._store.journeys.get_version(tenant_id, *key)).listened_event_types
            for key in routing.versions_to_check(running, reached)
        }
        for enrollment in routing.signal_targets(event.type, running, reached, listened):
            delivered = await journeys_client.signal_event(self._temporal, enrollment.id, ref)
            action: RouteAction = "signalled" if delivered else "not_running"
            result.routes.append(RouteOutcome(enrollment.id, enrollment.journey_id, action))

    async def _enter(
        self, tenant_id: str, entry: routing.Enter, customer: Customer, ref: EventRef
    ) -> RouteOutcome:
        if entry.first_touch_hook is not None:
            await self._store.customers.set_first_touch_hook(
                tenant_id, customer.id, entry.first_touch_hook, self._clock()
            )
        stand_in = await self._merges.stand_in(
            tenant_id, entry.journey_id, customer.id, entry.reentry, entry.entry_key, ref
        )
        if stand_in is not None:  # enrolled already, as a customer merged into this one
            return RouteOutcome(stand_in[0], entry.journey_id, stand_in[1])
        outcome = await journeys_client.enroll(
            self._temporal,
            tenant_id=tenant_id,
            journey_id=entry.journey_id,
            version=entry.version,
            customer_id=customer.id,
            reentry=entry.reentry,
            entry_key=entry.entry_key,
            entry_event=ref,
            workflow_id=await self._running_legacy_id(
                tenant_id, entry.journey_id, customer.id, entry.entry_key
            ),
        )
        action: RouteAction = (
            "already_enrolled" if outcome.status == "already_enrolled" else "enrolled"
        )
        return RouteOutcome(outcome.enrollment_id, entry.journey_id, action)

    async def _running_legacy_id(
        self, tenant_id: str, journey_id: str, customer_id: str, entry_key: str | None
    ) -> str | None:
        """The id of a running enrollment for this entry key started before entry keys were
        hashed into ids, which keeps its id (and so gets this event); None when there is none."""
        legacy = routing.legacy_enrollment_id(tenant_id, journey_id, customer_id, entry_key)
        if legacy is None:
            return None
        found = await self._store.enrollments.get(tenant_id, legacy)
        return legacy if found is not None and found.running else None
