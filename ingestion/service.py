"""Event ingestion: validate, resolve the customer, store once, then route to journeys.

Ingestion is two steps. `store` validates each event, resolves its customer and inserts it; a
malformed event is rejected with one problem per field while the others are taken, and re-sending
an event id already stored answers `duplicate` (routed again only if its routing never finished,
see `ingestion.scheduler`). `route` then delivers the stored events to journeys
(`ingestion.router`, by the rules of `domain.routing`) and records on each that it was routed;
when that fails the result says so (`routing_error`) while the event stays stored, still marked
unrouted. `ingest` does both and answers once routed (`POST /v1/events`, GraphQL
`ingestEvents`, the WeCom result poller); `store_then_route_later` answers once stored and routes
in a background task the service owns (the WeCom callback URL, which must answer fast).

Until routed, an event is on the customer's timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from domain.errors import DomainError, FieldProblem, InvalidInputError
from domain.events import Event, EventIn
from ingestion.outages import unavailable_dependency
from ingestion.results import IngestResult, IngestStatus, Routable, StoredBatch
from ingestion.scheduler import RoutingScheduler

logger = logging.getLogger(__name__)


def _raw_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) else None


class IngestService(RoutingScheduler):
    """Takes batches of client events for a tenant (module docstring); routing, its order and
    its recovery are `RoutingScheduler`'s. One object does both because storing consults what
    the scheduler is routing now (an event sent again while routing is not routed twice)."""

    async def ingest(self, tenant_id: str, raw_events: list[Any]) -> list[IngestResult]:
        """Store then route; one result per event, in batch order. Events are processed in
        order, so a customer's events reach their journeys in the order they were sent."""
        batch = await self.store(tenant_id, raw_events)
        await self.route(batch)
        return batch.results

    async def store(
        self, tenant_id: str, raw_events: list[Any], *, prepare: str | None = None
    ) -> StoredBatch:
        """Validate, resolve and insert each event, in order; nothing is routed yet. `prepare`
        names the registered preparation routing must run first on the events."""
        results: list[IngestResult] = []
        routable: list[Routable] = []
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

    async def _one(
        self, tenant_id: str, index: int, raw: Any, prepare: str | None = None
    ) -> tuple[IngestResult, Routable | None]:
        event_id = _raw_id(raw)
        if not isinstance(raw, Mapping):
            problem = FieldProblem(path="", message="an event must be a JSON object")
            return IngestResult(index, event_id, "rejected", errors=[problem]), None
        try:
            event_in = EventIn.parse(raw, now=self._clock())
        except InvalidInputError as exc:
            return IngestResult(index, event_id, "rejected", errors=exc.problems), None
        try:
            return await self._store_event(tenant_id, index, event_in, prepare)
        except InvalidInputError as exc:
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

    async def _store_event(
        self, tenant_id: str, index: int, event_in: EventIn, prepare: str | None
    ) -> tuple[IngestResult, Routable | None]:
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
            item = Routable(result, existing.event, customer, existing.prepare or prepare)
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
        return result, Routable(result, event, customer, prepare)
