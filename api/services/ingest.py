"""Event ingestion: validate, resolve the customer, store once, then route to journeys.

Each event of a batch stands alone: a malformed one is rejected with one problem per field while
the others are taken. A stored event is never lost: routing happens after the insert, and when it
fails the result says so (`routing_error`) while the event stays stored. Re-sending an event id
already stored answers `duplicate` and routes nothing again.

Routing an event of type T for customer C:
1. every published journey whose entry trigger matches (event type plus `where` conditions, or the
   hook's `state` for hook entries) enrolls C by signal-with-start, pinned to the live version;
2. every running enrollment of C whose version listens for T receives the event as a signal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from temporalio.client import Client

from api.services.ports import Clock, utc_now
from domain.conditions import all_match, lookup
from domain.customers import Customer
from domain.engine import EventRef
from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.events import Event, EventIn
from domain.journey import EventTrigger, HookTrigger
from store.database import Store
from store.journeys import JourneyVersion
from workflows import client as journeys_client

logger = logging.getLogger(__name__)

IngestStatus = Literal["accepted", "duplicate", "rejected", "failed"]
"""`accepted`: stored now; `duplicate`: stored before, not routed again; `rejected`: malformed,
not stored; `failed`: not stored because of a server-side error (safe to send again)."""

RouteAction = Literal["enrolled", "already_enrolled", "signalled", "not_running"]


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    """What routing did to one enrollment."""

    enrollment_id: str
    journey_id: str
    action: RouteAction


@dataclass(slots=True)
class IngestResult:
    """The fate of one event of a batch (`index` is its position in the batch)."""

    index: int
    event_id: str | None
    status: IngestStatus
    customer_id: str | None = None
    customer_created: bool = False
    errors: list[FieldProblem] = field(default_factory=list)
    routes: list[RouteOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    routing_error: str | None = None

    @property
    def stored(self) -> bool:
        """Whether the event is in the store (now or from before)."""
        return self.status in ("accepted", "duplicate")


def _raw_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


class IngestService:
    """Takes batches of client events for a tenant; see the module docstring."""

    def __init__(self, store: Store, temporal: Client, clock: Clock = utc_now) -> None:
        self._store = store
        self._temporal = temporal
        self._clock = clock

    async def ingest(self, tenant_id: str, raw_events: list[Any]) -> list[IngestResult]:
        """One result per event, in batch order. Events are processed in order, one at a time,
        so a customer's events reach their journeys in the order they were sent."""
        return [await self._one(tenant_id, index, raw) for index, raw in enumerate(raw_events)]

    async def _one(self, tenant_id: str, index: int, raw: Any) -> IngestResult:
        event_id = _raw_id(raw)
        if not isinstance(raw, Mapping):
            problem = FieldProblem(path="", message="an event must be a JSON object")
            return IngestResult(index, event_id, "rejected", errors=[problem])
        try:
            event_in = EventIn.parse(raw)
        except InvalidInput as exc:
            return IngestResult(index, event_id, "rejected", errors=exc.problems)
        try:
            result = await self._store_event(tenant_id, index, event_in)
        except InvalidInput as exc:
            return IngestResult(index, event_in.id, "rejected", errors=exc.problems)
        except Exception as exc:
            # Not stored: the client may send it again; the event id keeps that idempotent.
            logger.exception("storing event %d of tenant %s failed", index, tenant_id)
            reason = "the event could not be stored; send it again"
            if isinstance(exc, DomainError):
                reason = f"{exc}; send it again"
            return IngestResult(
                index, event_in.id, "failed", errors=[FieldProblem(path="", message=reason)]
            )
        if result[0].status == "accepted":
            await self._route_safely(tenant_id, result[1], result[2], result[0])
        return result[0]

    async def _store_event(
        self, tenant_id: str, index: int, event_in: EventIn
    ) -> tuple[IngestResult, Event, Customer]:
        existing = await self._store.events.get(tenant_id, event_in.id)
        if existing is not None:
            # Checked before resolving so a re-sent event changes no customer.
            customer = await self._store.customers.get(tenant_id, existing.customer_id)
            result = IngestResult(index, event_in.id, "duplicate", customer_id=customer.id)
            return result, existing, customer
        now = self._clock()
        customer, created = await self._store.customers.resolve(
            tenant_id, dict(event_in.identity), now
        )
        event = Event.from_input(
            event_in, tenant_id=tenant_id, customer_id=customer.id, received_at=now
        )
        inserted = await self._store.events.insert(event)
        status: IngestStatus = "accepted" if inserted else "duplicate"
        result = IngestResult(
            index, event.id, status, customer_id=customer.id, customer_created=created
        )
        return result, event, customer

    async def _route_safely(
        self, tenant_id: str, event: Event, customer: Customer, result: IngestResult
    ) -> None:
        try:
            await self._route(tenant_id, event, customer, result)
        except Exception as exc:
            logger.exception("routing event %s of tenant %s failed", event.id, tenant_id)
            result.routing_error = f"stored, routing failed: {type(exc).__name__}"

    async def _route(
        self, tenant_id: str, event: Event, customer: Customer, result: IngestResult
    ) -> None:
        ref = EventRef(
            id=event.id, type=event.type, properties=event.properties, occurred_at=event.timestamp
        )
        reached: set[str] = set()
        matches = await self._store.journeys.find_published_entry_matches(tenant_id, event.type)
        for version in matches:
            outcome = await self._enroll(tenant_id, version, event, customer, ref, result)
            if outcome is not None:
                reached.add(outcome.enrollment_id)
                result.routes.append(outcome)
        listening: dict[tuple[str, int], bool] = {}
        for enrollment in await self._store.enrollments.running_for_customer(
            tenant_id, customer.id
        ):
            if enrollment.id in reached:
                continue
            key = (enrollment.journey_id, enrollment.version)
            if key not in listening:
                listening[key] = await self._listens(tenant_id, *key, event_type=event.type)
            if not listening[key]:
                continue
            delivered = await journeys_client.signal_event(self._temporal, enrollment.id, ref)
            action: RouteAction = "signalled" if delivered else "not_running"
            result.routes.append(RouteOutcome(enrollment.id, enrollment.journey_id, action))

    async def _enroll(
        self,
        tenant_id: str,
        version: JourneyVersion,
        event: Event,
        customer: Customer,
        ref: EventRef,
        result: IngestResult,
    ) -> RouteOutcome | None:
        entry = version.definition.entry
        trigger = entry.trigger
        if isinstance(trigger, EventTrigger):
            if not all_match(trigger.where, event.properties):
                return None
        elif isinstance(trigger, HookTrigger):
            if event.properties.get("state") != trigger.hook:
                return None
        else:
            return None
        entry_key: str | None = None
        if entry.reentry.mode == "concurrent":
            value = lookup(event.properties, entry.reentry.entry_key or "")
            if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
                result.notes.append(
                    f"journey {version.journey_id!r} enrolls one per "
                    f"{entry.reentry.entry_key!r}, which this event lacks; not enrolled"
                )
                return None
            entry_key = str(value)
        if isinstance(trigger, HookTrigger):
            await self._store.customers.set_first_touch_hook(
                tenant_id, customer.id, trigger.hook, self._clock()
            )
        outcome = await journeys_client.enroll(
            self._temporal,
            tenant_id=tenant_id,
            journey_id=version.journey_id,
            version=version.version,
            customer_id=customer.id,
            reentry=entry.reentry.mode,
            entry_key=entry_key,
            entry_event=ref,
        )
        action: RouteAction = (
            "already_enrolled" if outcome.status == "already_enrolled" else "enrolled"
        )
        return RouteOutcome(outcome.enrollment_id, version.journey_id, action)

    async def _listens(
        self, tenant_id: str, journey_id: str, version: int, *, event_type: str
    ) -> bool:
        found = await self._store.journeys.get_version(tenant_id, journey_id, version)
        return event_type in found.listened_event_types
