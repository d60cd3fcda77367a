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
  in stored order. `start_recovery` runs it at start-up and then periodically in a task the
  service owns.
So a stored event reaches its journeys at least once, or is parked where ops see it. Routing
twice is harmless: a journey workflow ignores an event id it has seen (`JourneyWorkflow.event`
keeps the last `SEEN_EVENT_IDS` ids, across continue-as-new), and signal-with-start on a running
enrollment only delivers the event; on a closed `never` enrollment it is refused
(`already_enrolled`).

Poison events: every failed attempt to route an event (live or by a sweep; its customer gone
included) is counted on the event with its error (`retries.describe_failure`: the error's kind,
and the text only of errors that are ours or the workflow service's, never arbitrary exception
text) and the time of its next attempt, `RetryPolicy`'s backoff later. Out of attempts, it is
parked as a dead letter (`store.dead_letters`; GraphQL `deadLetters`, `retryDeadLetter(s)`, which
route it again at once with a fresh count). While an event waits out its backoff, the sweep keeps
its customer's later events back, so they stay in order; once it is parked, they go on.

A sweep is fair between tenants: it serves the tenants with events due (the one with the oldest
first), an equal share of `limit` each (at most `per_tenant`; oldest first); a tenant whose events
keep failing backs off, so it cannot hold the others back.

Preparation: some sources must do work on an event right before it is routed, e.g. WeCom notes
the staff member who added a customer on the customer (the welcome is sent from them). The
source registers it by name (`register_preparation`) and stores its events naming it
(`store_then_route_later(..., prepare=name)`); whoever routes the event (live, a sweep, a retried
dead letter) runs it first. A failing preparation is logged and routing goes on; a preparation
not registered in the routing process counts as a failed attempt.

Enrollment ids: a long entry key is hashed into the id (`domain.enrollments.entry_key_segment`);
an enrollment still running under the id an older release gave it (the key as it is) keeps
getting its key's events, found through its projection.

Limits: an event routed in part (say, enrolled in one journey, then a crash) whose enrollment has
since closed re-enters a journey whose re-entry is `after_exit` or `concurrent` when routed again;
an event sent live while an earlier one of its customer waits out a backoff is routed at once, so
order is kept within a batch and a sweep, not across live batches; a parked event's later events
have gone on, so routing it again delivers it out of order. Until routed, an event is on the
customer's timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from temporalio.client import Client

from api.services.ports import Clock, utc_now
from api.services.retries import RetryPolicy, describe_failure
from domain.conditions import all_match, lookup
from domain.customers import Customer
from domain.engine import EventRef
from domain.enrollments import unhashed_enrollment_id
from domain.errors import DomainError, FieldProblem, InvalidInput, NotFound
from domain.events import Event, EventIn
from domain.journey import EventTrigger, HookTrigger
from store.database import Store
from store.events import StoredEvent
from store.journeys import JourneyVersion
from workflows import client as journeys_client

logger = logging.getLogger(__name__)

IngestStatus = Literal["accepted", "duplicate", "rejected", "failed"]
"""`accepted`: stored now; `duplicate`: stored before (routed again only if its routing never
finished); `rejected`: malformed, not stored; `failed`: not stored because of a server-side error
(safe to send again)."""

RouteAction = Literal["enrolled", "already_enrolled", "signalled", "not_running"]

MAX_TEMPORAL_ID_BYTES = 1000
"""Temporal's default workflow id limit: an older id longer than this was never started."""


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
    prepare: str | None = None


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


Preparation = Callable[[str, Event, Customer], Awaitable[None]]
"""Work to do on a stored event (tenant, event, its customer) right before it is routed; safe to
repeat (see the module docstring)."""


class IngestService:
    """Takes batches of client events for a tenant; see the module docstring."""

    def __init__(
        self,
        store: Store,
        temporal: Client,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._store = store
        self._temporal = temporal
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._preparations: dict[str, Preparation] = {}
        self._background: set[asyncio.Task[None]] = set()
        # The latest routing task of each (tenant, customer): the next one waits for it.
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        # (tenant, event id) of events routing now or waiting to: the sweep leaves them alone.
        self._in_flight: set[tuple[str, str]] = set()
        self._recovery: asyncio.Task[None] | None = None

    async def ingest(self, tenant_id: str, raw_events: list[Any]) -> list[IngestResult]:
        """Store then route; one result per event, in batch order. Events are processed in
        order, so a customer's events reach their journeys in the order they were sent."""
        batch = await self.store(tenant_id, raw_events)
        await self.route(batch)
        return batch.results

    def register_preparation(self, name: str, preparation: Preparation) -> None:
        """Run `preparation` before routing any event stored with `prepare=name`."""
        self._preparations[name] = preparation

    async def store(
        self, tenant_id: str, raw_events: list[Any], *, prepare: str | None = None
    ) -> StoredBatch:
        """Validate, resolve and insert each event, in order; nothing is routed yet. `prepare`
        names the registered preparation routing must run first on the events."""
        results: list[IngestResult] = []
        routable: list[_Routable] = []
        taken: set[tuple[str, str]] = set()
        for index, raw in enumerate(raw_events):
            result, stored = await self._one(tenant_id, index, raw, prepare)
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
        self, tenant_id: str, raw_events: list[Any], *, prepare: str | None = None
    ) -> StoredBatch:
        """Store now and route in the background; the results' `routes` fill in later.

        `prepare` names the registered preparation to run in the background task just before
        routing (after routing still running for the batch's customers), e.g. to note what the
        event says about the customer; it is recorded on the events, so recovery runs it too."""
        batch = await self.store(tenant_id, raw_events, prepare=prepare)
        if batch.needs_routing:
            # No await between storing and scheduling: routing order is storing order.
            self._schedule(batch)
        return batch

    async def recover(
        self,
        older_than: timedelta = timedelta(minutes=1),
        limit: int = 500,
        per_tenant: int = 100,
    ) -> int:
        """Route stored events that were never routed (module docstring), received more than
        `older_than` ago and not waiting out a backoff: per tenant (the one with the oldest
        first) an equal share of `limit`, at most `per_tenant`, oldest first and each
        customer's in stored order. The number of events routed without error."""
        now = self._clock()
        cutoff = now - older_than
        tenants = await self._store.events.tenants_due(now, cutoff, max(1, limit))
        # An equal share each, so a tenant with many events (failing, say) leaves room for all.
        share = max(1, min(per_tenant, limit // max(1, len(tenants))))
        pending: list[StoredEvent] = []
        for tenant_id in tenants:
            room = min(share, limit - len(pending))
            if room <= 0:
                break
            pending += await self._store.events.due(tenant_id, now, cutoff, room)
        results = await self._route_stored(pending)
        routed = sum(1 for result in results if result.routing_error is None)
        if pending:
            logger.info("recovery routed %d of %d unrouted events", routed, len(pending))
        return routed

    async def route_stored(self, tenant_id: str, stored: list[StoredEvent]) -> list[IngestResult]:
        """Route these stored, pending events of the tenant now (a dead letter revived, say),
        each customer's in the given order, and wait; one result per event routed here (an
        event already routing in this process is left to that)."""
        return await self._route_stored(
            [item for item in stored if item.event.tenant_id == tenant_id]
        )

    def start_recovery(
        self,
        interval: float = 60.0,
        *,
        older_than: timedelta = timedelta(minutes=1),
        limit: int = 500,
        per_tenant: int = 100,
    ) -> None:
        """Run `recover` now and then every `interval` seconds, until `stop_recovery`/`drain`."""
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(
                self._recover_every(interval, older_than, limit, per_tenant)
            )

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

    async def _route_stored(self, pending: list[StoredEvent]) -> list[IngestResult]:
        batches: dict[str, list[_Routable]] = {}
        orphans: list[IngestResult] = []
        for stored in pending:
            event = stored.event
            if (event.tenant_id, event.id) in self._in_flight:
                continue  # queued behind slow routing in this process: it will be routed
            try:
                customer = await self._store.customers.get(event.tenant_id, event.customer_id)
            except NotFound as exc:
                logger.error(
                    "event %s of tenant %s names no customer; not routed", event.id, event.tenant_id
                )
                error = describe_failure(exc)
                orphans.append(
                    IngestResult(
                        0, event.id, "duplicate", routing_error=f"stored, routing failed: {error}"
                    )
                )
                await self._record_failure(event.tenant_id, event.id, error)
                continue
            result = IngestResult(0, event.id, "duplicate", customer_id=customer.id)
            item = _Routable(result, event, customer, stored.prepare)
            batches.setdefault(event.tenant_id, []).append(item)
        tasks = [
            self._schedule(StoredBatch(tenant_id, [item.result for item in items], items))
            for tenant_id, items in batches.items()
        ]
        if tasks:
            await asyncio.wait(tasks)
        return [item.result for items in batches.values() for item in items] + orphans

    async def _record_failure(self, tenant_id: str, event_id: str, error: str) -> None:
        try:
            after = await self._store.events.record_failure(
                tenant_id, event_id, error, self._clock(), self._retry.backoff
            )
        except Exception:
            # Still pending with its old count: the next sweep tries it (and counts) again.
            logger.exception("recording a failed routing of tenant %s failed", tenant_id)
            return
        if after is not None and after.dead_at is not None:
            logger.error(
                "event %s of tenant %s parked after %d failed routing attempts: %s",
                event_id,
                tenant_id,
                after.attempts,
                error,
            )

    async def _recover_every(
        self, interval: float, older_than: timedelta, limit: int, per_tenant: int
    ) -> None:
        while True:
            try:
                await self.recover(older_than, limit, per_tenant)
            except Exception:
                # The next sweep tries again: the events stay marked unrouted.
                logger.exception("recovering unrouted events failed")
            await asyncio.sleep(interval)

    def _schedule(self, batch: StoredBatch) -> asyncio.Task[None]:
        keys = {(batch.tenant_id, item.customer.id) for item in batch._routable}
        events = {(batch.tenant_id, item.event.id) for item in batch._routable}
        before = {self._tails[key] for key in keys if key in self._tails}
        task = asyncio.create_task(self._route_after(before, batch))
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

    async def _route_after(self, before: set[asyncio.Task[None]], batch: StoredBatch) -> None:
        if before:
            await asyncio.wait(before)
        unprepared = await self._prepare(batch)
        failed: set[str] = set()
        for item in batch._routable:
            if item.customer.id in failed:
                # Routed later, after the one that failed (recovery keeps stored order).
                item.result.routing_error = "stored, not routed: an earlier event failed to route"
                continue
            if item.event.id in unprepared:
                error = f"preparation {item.prepare!r} is not known to this process"
                item.result.routing_error = f"stored, routing failed: {error}"
                await self._record_failure(batch.tenant_id, item.event.id, error)
            else:
                await self._route_safely(batch.tenant_id, item.event, item.customer, item.result)
            if item.result.routing_error is not None:
                failed.add(item.customer.id)
        routed = [item.event.id for item in batch._routable if item.result.routing_error is None]
        try:
            await self._store.events.mark_routed(batch.tenant_id, routed, self._clock())
        except Exception:
            # Left marked unrouted, they are routed again later: harmless (module docstring).
            logger.exception("recording events of tenant %s as routed failed", batch.tenant_id)

    async def _prepare(self, batch: StoredBatch) -> set[str]:
        """Run the preparations the batch's events name; the ids of those naming one that is
        not registered here."""
        unknown: set[str] = set()
        for item in batch._routable:
            if item.prepare is None:
                continue
            preparation = self._preparations.get(item.prepare)
            if preparation is None:
                unknown.add(item.event.id)
                continue
            try:
                await preparation(batch.tenant_id, item.event, item.customer)
            except Exception:
                logger.exception(
                    "preparing event %s of tenant %s to be routed failed",
                    item.event.id,
                    batch.tenant_id,
                )
        return unknown

    async def _one(
        self, tenant_id: str, index: int, raw: Any, prepare: str | None = None
    ) -> tuple[IngestResult, _Routable | None]:
        event_id = _raw_id(raw)
        if not isinstance(raw, Mapping):
            problem = FieldProblem(path="", message="an event must be a JSON object")
            return IngestResult(index, event_id, "rejected", errors=[problem]), None
        try:
            event_in = EventIn.parse(raw, now=self._clock())
        except InvalidInput as exc:
            return IngestResult(index, event_id, "rejected", errors=exc.problems), None
        try:
            return await self._store_event(tenant_id, index, event_in, prepare)
        except InvalidInput as exc:
            return IngestResult(index, event_in.id, "rejected", errors=exc.problems), None
        except Exception as exc:
            # Not stored: the client may send it again; the event id keeps that idempotent.
            logger.exception("storing event %d of tenant %s failed", index, tenant_id)
            reason = "the event could not be stored; send it again"
            if isinstance(exc, DomainError):
                reason = f"{exc}; send it again"
            failed = IngestResult(
                index, event_in.id, "failed", errors=[FieldProblem(path="", message=reason)]
            )
            return failed, None

    async def _store_event(
        self, tenant_id: str, index: int, event_in: EventIn, prepare: str | None
    ) -> tuple[IngestResult, _Routable | None]:
        """The result and, when it is to be routed now, the stored event to route."""
        existing = await self._store.events.find(tenant_id, event_in.id)
        if existing is not None:
            # Checked before resolving so a re-sent event changes no customer.
            customer = await self._store.customers.get(tenant_id, existing.event.customer_id)
            result = IngestResult(index, event_in.id, "duplicate", customer_id=customer.id)
            if not existing.pending:
                return result, None
            # Never routed (a crash, or routing failed): the client's retry heals it, with the
            # preparation it was stored with, or (stored by an older release) is sent with now.
            item = _Routable(result, existing.event, customer, existing.prepare or prepare)
            return result, item
        now = self._clock()
        customer, created = await self._store.customers.resolve(
            tenant_id, dict(event_in.identity), now
        )
        event = Event.from_input(
            event_in, tenant_id=tenant_id, customer_id=customer.id, received_at=now
        )
        inserted = await self._store.events.insert(event, prepare=prepare)
        status: IngestStatus = "accepted" if inserted else "duplicate"
        result = IngestResult(
            index, event.id, status, customer_id=customer.id, customer_created=created
        )
        if not inserted:
            return result, None  # lost an insert race: the request that stored it routes it
        return result, _Routable(result, event, customer, prepare)

    async def _route_safely(
        self, tenant_id: str, event: Event, customer: Customer, result: IngestResult
    ) -> None:
        try:
            await self._route(tenant_id, event, customer, result)
        except Exception as exc:
            logger.exception("routing event %s of tenant %s failed", event.id, tenant_id)
            result.routing_error = f"stored, routing failed: {type(exc).__name__}"
            await self._record_failure(tenant_id, event.id, describe_failure(exc))

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
            workflow_id=await self._running_unhashed(
                tenant_id, version.journey_id, customer.id, entry_key
            ),
        )
        action: RouteAction = (
            "already_enrolled" if outcome.status == "already_enrolled" else "enrolled"
        )
        return RouteOutcome(outcome.enrollment_id, version.journey_id, action)

    async def _running_unhashed(
        self, tenant_id: str, journey_id: str, customer_id: str, entry_key: str | None
    ) -> str | None:
        """The id of a running enrollment for this entry key started before entry keys were
        hashed into ids, which keeps its id (and so gets this event); None when there is none."""
        legacy = unhashed_enrollment_id(tenant_id, journey_id, customer_id, entry_key)
        if legacy is None or len(legacy.encode("utf-8")) > MAX_TEMPORAL_ID_BYTES:
            return None
        found = await self._store.enrollments.get(tenant_id, legacy)
        return legacy if found is not None and found.running else None

    async def _listens(
        self, tenant_id: str, journey_id: str, version: int, *, event_type: str
    ) -> bool:
        found = await self._store.journeys.get_version(tenant_id, journey_id, version)
        return event_type in found.listened_event_types
