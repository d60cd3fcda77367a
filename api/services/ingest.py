"""Event ingestion: validate, resolve the customer, store once, then route to journeys.

Ingestion is two steps. `store` validates each event, resolves its customer and inserts it; a
malformed event is rejected with one problem per field while the others are taken, and re-sending
an event id already stored answers `duplicate` (routed again only if its routing never finished,
see below). `route` then delivers the stored events to journeys and records on each that it was
routed; when that fails the result says so (`routing_error`) while the event stays stored, still
marked unrouted. `ingest` does both and answers once routed (`POST /v1/events`, GraphQL
`ingestEvents`); `store_then_route_later` answers once stored and routes in a background task
the service owns (the WeCom callback URL, which must answer fast).

Routing keeps each customer's order: a batch's routing waits for routing still running for any
of its customers, so a customer's events reach their journeys in the order they were stored,
whether routed in the background or not. `drain` stops the recovery loop and waits for
background routing (at shutdown, in tests).

Routing an event of type T for customer C:
1. every published journey whose entry trigger matches (event type plus `where` conditions, or the
   hook's `state` for hook entries) enrolls C by signal-with-start, pinned to the live version;
2. every running enrollment of C whose version listens for T receives the event as a signal.

What a crash loses: an event is stored before it is routed, so a process that dies between the
two (or is killed before `drain` finishes), or routing that fails, leaves a stored event that
reached no journey. The stored event stays marked unrouted (`routed_at` is set only once every
enrollment it targets was enrolled or signalled without error), and two things route it later:
- the client sending it again: the answer is still `duplicate`, but the event is routed now;
- `recover`, which routes the unrouted events received more than a minute ago, each customer's
  in stored order (a customer whose event fails keeps its later ones for the next sweep).
  `start_recovery` runs it at start-up and then periodically in a task the service owns.
So a stored event reaches its journeys at least once. Routing twice is harmless: a journey
workflow ignores an event id it has seen (`JourneyWorkflow.event` keeps the last
`SEEN_EVENT_IDS` ids, across continue-as-new), and signal-with-start on a running enrollment only
delivers the event; on a closed `never` enrollment it is refused (`already_enrolled`).
Limits: an event routed in part (say, enrolled in one journey, then a crash) whose enrollment has
since closed re-enters a journey whose re-entry is `after_exit` or `concurrent` when routed again;
routing that failed live is recovered after the customer's later events were routed, so their
order is kept only within a batch and within a sweep; a sweep routes at most `limit` events, so
more than that failing for good would hold the rest back; and the work `store_then_route_later`'s
`prepare` does is not redone on recovery. Until routed, an event is on the customer's timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from temporalio.client import Client

from api.services.merges import MergeService
from api.services.ports import Clock, utc_now
from api.unavailable import unavailable_dependency
from domain.conditions import all_match, lookup
from domain.customers import Customer
from domain.engine import EventRef
from domain.errors import DomainError, FieldProblem, InvalidInput, NotFound
from domain.events import Event, EventIn
from domain.journey import EventTrigger, HookTrigger
from store.database import Store
from store.journeys import JourneyVersion
from workflows import client as journeys_client

logger = logging.getLogger(__name__)

IngestStatus = Literal["accepted", "duplicate", "rejected", "failed"]
"""`accepted`: stored now; `duplicate`: stored before (routed again only if its routing never
finished); `rejected`: malformed, not stored; `failed`: not stored because of a server-side error
(safe to send again)."""

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


@dataclass(frozen=True, slots=True)
class _Routable:
    result: IngestResult
    event: Event
    customer: Customer


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """A batch after `IngestService.store`: one result per event, in batch order."""

    tenant_id: str
    results: list[IngestResult]
    _routable: list[_Routable] = field(default_factory=list, repr=False)

    @property
    def needs_routing(self) -> bool:
        """Whether any event of the batch is still to be routed (stored now, or stored before
        and never routed)."""
        return bool(self._routable)


Prepare = Callable[[StoredBatch], Awaitable[None]]
"""Work to do on a stored batch right before it is routed (`store_then_route_later`)."""


class IngestService:
    """Takes batches of client events for a tenant; see the module docstring."""

    def __init__(self, store: Store, temporal: Client, clock: Clock = utc_now) -> None:
        self._store = store
        self._temporal = temporal
        self._clock = clock
        self._background: set[asyncio.Task[None]] = set()
        # The latest routing task of each (tenant, customer): the next one waits for it.
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        # (tenant, event id) of events routing now or waiting to: the sweep leaves them alone.
        self._in_flight: set[tuple[str, str]] = set()
        self._recovery: asyncio.Task[None] | None = None
        self._merges = MergeService(store, temporal, clock)

    async def ingest(self, tenant_id: str, raw_events: list[Any]) -> list[IngestResult]:
        """Store then route; one result per event, in batch order. Events are processed in
        order, so a customer's events reach their journeys in the order they were sent."""
        batch = await self.store(tenant_id, raw_events)
        await self.route(batch)
        return batch.results

    async def store(self, tenant_id: str, raw_events: list[Any]) -> StoredBatch:
        """Validate, resolve and insert each event, in order; nothing is routed yet."""
        results: list[IngestResult] = []
        routable: list[_Routable] = []
        taken: set[tuple[str, str]] = set()
        for index, raw in enumerate(raw_events):
            result, stored = await self._one(tenant_id, index, raw)
            results.append(result)
            if stored is None:
                continue
            key = (tenant_id, stored.event.id)
            # A never-routed event sent again is routed unless it already is being routed.
            if key in self._in_flight or key in taken:
                continue
            taken.add(key)
            routable.append(stored)
        return StoredBatch(tenant_id, results, routable)

    async def route(self, batch: StoredBatch) -> None:
        """Route the batch's events still to be routed (filling their results' `routes`),
        record them as routed, and wait."""
        if batch.needs_routing:
            # Shielded: a caller that goes away must not stop routing half-way.
            await asyncio.shield(self._schedule(batch))

    async def store_then_route_later(
        self, tenant_id: str, raw_events: list[Any], *, prepare: Prepare | None = None
    ) -> StoredBatch:
        """Store now and route in the background; the results' `routes` fill in later.

        `prepare` runs in the background task just before routing (after routing still running
        for the batch's customers), e.g. to note what the event says about the customer; its
        failure is logged and routing goes on."""
        batch = await self.store(tenant_id, raw_events)
        if batch.needs_routing:
            # No await between storing and scheduling: routing order is storing order.
            self._schedule(batch, prepare)
        return batch

    async def recover(self, older_than: timedelta = timedelta(minutes=1), limit: int = 500) -> int:
        """Route stored events that were never routed (module docstring), received more than
        `older_than` ago, oldest first and each customer's in stored order; at most `limit`.
        The number of events routed without error."""
        cutoff = self._clock() - older_than
        pending = await self._store.events.unrouted(cutoff, limit)
        batches: dict[str, list[_Routable]] = {}
        for stored in pending:
            event = stored.event
            if (event.tenant_id, event.id) in self._in_flight:
                continue  # queued behind slow routing in this process: it will be routed
            try:
                customer = await self._store.customers.get(event.tenant_id, event.customer_id)
            except NotFound:
                logger.error(
                    "event %s of tenant %s names no customer; not routed", event.id, event.tenant_id
                )
                continue
            result = IngestResult(0, event.id, "duplicate", customer_id=customer.id)
            batches.setdefault(event.tenant_id, []).append(_Routable(result, event, customer))
        tasks = [
            self._schedule(StoredBatch(tenant_id, [item.result for item in items], items))
            for tenant_id, items in batches.items()
        ]
        if tasks:
            await asyncio.wait(tasks)
        routed = sum(
            1 for items in batches.values() for item in items if item.result.routing_error is None
        )
        if pending:
            logger.info("recovery routed %d of %d unrouted events", routed, len(pending))
        return routed

    def start_recovery(
        self,
        interval: float = 60.0,
        *,
        older_than: timedelta = timedelta(minutes=1),
        limit: int = 500,
    ) -> None:
        """Run `recover` now and then every `interval` seconds, until `stop_recovery`/`drain`."""
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(self._recover_every(interval, older_than, limit))

    async def stop_recovery(self) -> None:
        """Stop the loop `start_recovery` started (routing it scheduled goes on; see `drain`)."""
        task, self._recovery = self._recovery, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def drain(self) -> None:
        """Stop the recovery loop, then wait until background routing has finished (at
        shutdown, in tests)."""
        await self.stop_recovery()
        while self._background:
            await asyncio.wait(set(self._background))

    async def _recover_every(self, interval: float, older_than: timedelta, limit: int) -> None:
        while True:
            try:
                await self.recover(older_than, limit)
            except Exception:
                # The next sweep tries again: the events stay marked unrouted.
                logger.exception("recovering unrouted events failed")
            await asyncio.sleep(interval)

    def _schedule(self, batch: StoredBatch, prepare: Prepare | None = None) -> asyncio.Task[None]:
        keys = {(batch.tenant_id, item.customer.id) for item in batch._routable}
        events = {(batch.tenant_id, item.event.id) for item in batch._routable}
        before = {self._tails[key] for key in keys if key in self._tails}
        task = asyncio.create_task(self._route_after(before, batch, prepare))
        for key in keys:
            self._tails[key] = task
        self._in_flight |= events
        self._background.add(task)
        task.add_done_callback(lambda done: self._finished(done, keys, events))
        return task

    def _finished(
        self,
        task: asyncio.Task[None],
        keys: Iterable[tuple[str, str]],
        events: set[tuple[str, str]],
    ) -> None:
        self._background.discard(task)
        self._in_flight -= events
        for key in keys:
            if self._tails.get(key) is task:
                del self._tails[key]
        if not task.cancelled() and task.exception() is not None:
            logger.error("routing a batch failed", exc_info=task.exception())

    async def _route_after(
        self, before: set[asyncio.Task[None]], batch: StoredBatch, prepare: Prepare | None
    ) -> None:
        if before:
            await asyncio.wait(before)
        if prepare is not None:
            try:
                await prepare(batch)
            except Exception:
                logger.exception("preparing to route events of tenant %s failed", batch.tenant_id)
        failed: set[str] = set()
        for item in batch._routable:
            if item.customer.id in failed:
                # Routed later, after the one that failed (recovery keeps stored order).
                item.result.routing_error = "stored, not routed: an earlier event failed to route"
                continue
            await self._route_safely(batch.tenant_id, item.event, item.customer, item.result)
            if item.result.routing_error is not None:
                failed.add(item.customer.id)
        routed = [item.event.id for item in batch._routable if item.result.routing_error is None]
        try:
            await self._store.events.mark_routed(batch.tenant_id, routed, self._clock())
        except Exception:
            # Left marked unrouted, they are routed again later: harmless (module docstring).
            logger.exception("recording events of tenant %s as routed failed", batch.tenant_id)

    async def _one(
        self, tenant_id: str, index: int, raw: Any
    ) -> tuple[IngestResult, _Routable | None]:
        event_id = _raw_id(raw)
        if not isinstance(raw, Mapping):
            problem = FieldProblem(path="", message="an event must be a JSON object")
            return IngestResult(index, event_id, "rejected", errors=[problem]), None
        try:
            event_in = EventIn.parse(raw)
        except InvalidInput as exc:
            return IngestResult(index, event_id, "rejected", errors=exc.problems), None
        try:
            result, event, customer, unrouted = await self._store_event(tenant_id, index, event_in)
        except InvalidInput as exc:
            return IngestResult(index, event_in.id, "rejected", errors=exc.problems), None
        except Exception as exc:
            if unavailable_dependency(exc):
                raise  # the batch stops: answered 503 (`api.unavailable`); the client retries
            # Not stored: the client may send it again; the event id keeps that idempotent.
            logger.exception("storing event %d of tenant %s failed", index, tenant_id)
            reason = "the event could not be stored; send it again"
            if isinstance(exc, DomainError):
                reason = f"{exc}; send it again"
            failed = IngestResult(
                index, event_in.id, "failed", errors=[FieldProblem(path="", message=reason)]
            )
            return failed, None
        if not unrouted:
            return result, None
        return result, _Routable(result, event, customer)

    async def _store_event(
        self, tenant_id: str, index: int, event_in: EventIn
    ) -> tuple[IngestResult, Event, Customer, bool]:
        """The result, the stored event, its customer and whether it is to be routed now."""
        existing = await self._store.events.find(tenant_id, event_in.id)
        if existing is not None:
            # Checked before resolving so a re-sent event changes no customer.
            customer = await self._store.customers.get(tenant_id, existing.event.customer_id)
            result = IngestResult(index, event_in.id, "duplicate", customer_id=customer.id)
            # Never routed (a crash, or routing failed): the client's retry heals it.
            return result, existing.event, customer, existing.pending
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
        # Lost an insert race: the request that stored it routes it.
        return result, event, customer, inserted

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
        await self._merges.settle(tenant_id, customer.id)  # no journey walked twice after a merge
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
        stand_in = await self._merges.stand_in(
            tenant_id, version.journey_id, customer.id, entry.reentry.mode, entry_key, ref
        )
        if stand_in is not None:  # enrolled already, as a customer merged into this one
            return RouteOutcome(stand_in[0], version.journey_id, stand_in[1])
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
