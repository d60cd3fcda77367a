"""Scheduling routing: each customer's order, in the background or not; recovery; retries.

Routing keeps each customer's order: a batch's routing waits for routing still running for any
of its customers, so a customer's events reach their journeys in the order they were stored,
whether routed in the background or not. `drain` waits for background routing (at shutdown,
in tests).

What a crash loses: an event is stored before it is routed, so a process that dies between the
two (or is killed before `drain` finishes), or routing that fails, leaves a stored event that
reached no journey. The stored event stays marked unrouted (`routed_at` is set only once every
enrollment it targets was enrolled or signalled without error), and two things route it later:
- the client sending it again: the answer is still `duplicate`, but the event is routed now;
- `recover`, which routes the unrouted events received more than a minute ago, each customer's
  in stored order. The API process runs it at start-up and then periodically, as one of its
  sweeps (`ingestion.sweeps`).
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
A failure that is an outage of MongoDB or Temporal (`outages.unavailable_dependency`) is not
counted: it says nothing about the event, and an outage longer than the backoffs would otherwise
park every event it met; the event stays pending for the next sweep.

A sweep is fair between tenants: it serves the tenants with events due (the one with the oldest
first), an equal share of `limit` each (at most `per_tenant`; oldest first); a tenant whose events
keep failing backs off, so it cannot hold the others back.

Preparation: some sources must do work on an event right before it is routed, e.g. WeCom notes
the staff member who added a customer on the customer (the welcome is sent from them). The
source registers it by name (`register_preparation`) and stores its events naming it
(`IngestService.store_then_route_later(..., prepare=name)`); whoever routes the event (live, a
sweep, a retried dead letter) runs it first. A failing preparation is logged and routing goes on;
a preparation not registered in the routing process counts as a failed attempt.

Limits: an event sent live while an earlier one of its customer waits out a backoff is routed at
once, so order is kept within a batch and a sweep, not across live batches; a parked event's
later events have gone on, so routing it again delivers it out of order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from temporalio.client import Client

from domain.customers import Customer
from domain.errors import NotFoundError, error_kind
from domain.events import Event
from ingestion.clock import Clock, utc_now
from ingestion.merges import MergeService
from ingestion.outages import unavailable_dependency
from ingestion.results import IngestResult, Preparation, Routable, StoredBatch
from ingestion.retries import RetryPolicy, describe_failure
from ingestion.router import Router
from store.database import Store
from store.events import StoredEvent

logger = logging.getLogger(__name__)


class RoutingScheduler:
    """Routes stored events, each customer's in order, now or in the background, and sweeps up
    those left unrouted (module docstring)."""

    def __init__(
        self,
        store: Store,
        temporal: Client,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        merges: MergeService | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._router = Router(store, temporal, clock, merges)
        self._preparations: dict[str, Preparation] = {}
        self._background: set[asyncio.Task[None]] = set()
        # The latest routing task of each (tenant, customer): the next one waits for it.
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        # (tenant, event id) of events routing now or waiting to: the sweep leaves them alone.
        self._in_flight: set[tuple[str, str]] = set()

    def register_preparation(self, name: str, preparation: Preparation) -> None:
        """Run `preparation` before routing any event stored with `prepare=name`."""
        self._preparations[name] = preparation

    async def route(self, batch: StoredBatch) -> None:
        """Route the batch's events still to be routed (filling their results' `routes`),
        record them as routed, and wait."""
        if batch.needs_routing:
            # Shielded: a caller that goes away must not stop routing half-way.
            await asyncio.shield(self._schedule(batch))

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

    async def drain(self) -> None:
        """Wait until background routing has finished (at shutdown, in tests)."""
        while self._background:
            await asyncio.wait(set(self._background))

    async def _route_stored(self, pending: list[StoredEvent]) -> list[IngestResult]:
        batches: dict[str, list[Routable]] = {}
        orphans: list[IngestResult] = []
        for stored in pending:
            event = stored.event
            if (event.tenant_id, event.id) in self._in_flight:
                continue  # queued behind slow routing in this process: it will be routed
            try:
                customer = await self._store.customers.get(event.tenant_id, event.customer_id)
            except NotFoundError as exc:
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
            item = Routable(result, event, customer, stored.prepare)
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

    async def _route_safely(
        self, tenant_id: str, event: Event, customer: Customer, result: IngestResult
    ) -> None:
        try:
            await self._router.route(tenant_id, event, customer, result)
        except Exception as exc:
            result.routing_error = f"stored, routing failed: {error_kind(exc)}"
            dependency = unavailable_dependency(exc)
            if dependency is not None:
                # An outage says nothing about the event: it is not counted towards parking
                # (an outage longer than the backoffs would otherwise park every event it met)
                # and the next sweep tries it again.
                logger.warning(
                    "routing event %s of tenant %s: %s unavailable", event.id, tenant_id, dependency
                )
                return
            logger.exception("routing event %s of tenant %s failed", event.id, tenant_id)
            await self._record_failure(tenant_id, event.id, describe_failure(exc))
