"""What changed recently: the reads live subscriptions poll.

Each read returns the rows *recorded* at or after a floor time, oldest first: events by
`received_at` (the server's clock, not the client's `timestamp`), deliveries by `updated_at` (so a
status change shows again), transitions by `at`. The poller (`api.services.live`) keeps a short
look-back below its cursor and de-duplicates by `FeedItem.key`, which covers writes that become
visible a little after rows recorded later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from store.deliveries import delivery_from_document
from store.enrollments import transition_from_document
from store.events import event_from_document
from store.mongo import DELIVERIES, EVENTS, TRANSITIONS, Document, collection
from store.timeline import TimelineEntry


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One recorded change: its de-duplication key, when it was recorded, the entry itself."""

    key: str
    recorded_at: datetime
    entry: TimelineEntry


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """Rows recorded from the floor on. When `full`, more rows follow the last one returned."""

    items: list[FeedItem]
    full: bool


def _transition(doc: Document) -> FeedItem:
    model = transition_from_document(doc)
    entry = TimelineEntry(kind="transition", at=model.at, transition=model)
    return FeedItem(f"transition:{doc['_id']}", model.at, entry)


def _event(doc: Document) -> FeedItem:
    model = event_from_document(doc)
    entry = TimelineEntry(kind="event", at=model.timestamp, event=model)
    return FeedItem(f"event:{doc['_id']}", model.received_at, entry)


def _delivery(doc: Document) -> FeedItem:
    model = delivery_from_document(doc)
    entry = TimelineEntry(kind="delivery", at=model.created_at, delivery=model)
    key = f"delivery:{doc['_id']}:{model.updated_at.isoformat()}:{model.status}"
    return FeedItem(key, model.updated_at, entry)


class LiveFeedRepository:
    """Recently recorded transitions, events and deliveries, tenant-scoped."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._transitions = collection(db, TRANSITIONS)
        self._events = collection(db, EVENTS)
        self._deliveries = collection(db, DELIVERIES)

    async def transitions(
        self,
        tenant_id: str,
        *,
        journey_id: str | None,
        enrollment_id: str | None,
        floor: datetime,
        limit: int,
    ) -> FeedBatch:
        """Transitions of a journey and/or one enrollment recorded from `floor` on."""
        query: Document = {"tenant_id": tenant_id, "at": {"$gte": floor}}
        if journey_id is not None:
            query["journey_id"] = journey_id
        if enrollment_id is not None:
            query["enrollment_id"] = enrollment_id
        items = await _read(self._transitions, query, "at", limit, _transition)
        return FeedBatch(items, len(items) == limit)

    async def customer(
        self, tenant_id: str, customer_ids: Sequence[str], *, floor: datetime, limit: int
    ) -> FeedBatch:
        """Events, deliveries and transitions of the customer (and of the customers merged into
        it: pass all their ids) recorded from `floor` on."""
        match: Document = {"tenant_id": tenant_id, "customer_id": {"$in": list(customer_ids)}}
        sources = [
            await _read(
                self._events,
                {**match, "received_at": {"$gte": floor}},
                "received_at",
                limit,
                _event,
            ),
            await _read(
                self._deliveries,
                {**match, "updated_at": {"$gte": floor}},
                "updated_at",
                limit,
                _delivery,
            ),
            await _read(
                self._transitions, {**match, "at": {"$gte": floor}}, "at", limit, _transition
            ),
        ]
        # A source that filled its page is complete only up to its last row: cut there.
        full = [rows[-1].recorded_at for rows in sources if len(rows) == limit]
        cutoff = min(full) if full else None
        merged = sorted(
            (
                item
                for rows in sources
                for item in rows
                if cutoff is None or item.recorded_at <= cutoff
            ),
            key=lambda item: (item.recorded_at, item.key),
        )
        return FeedBatch(merged, cutoff is not None)


async def _read(
    source: AsyncCollection[Document],
    query: Document,
    time_field: str,
    limit: int,
    convert: Callable[[Document], FeedItem],
) -> list[FeedItem]:
    found = source.find(query).sort([(time_field, 1), ("_id", 1)]).limit(limit)
    return [convert(doc) async for doc in found]
