"""Stored events: idempotent by `(tenant_id, event_id)`, read per customer in time order.

Routing state: an event is inserted with `routed_at: null` and a `route_pending: true` marker;
`mark_routed` sets `routed_at` and removes the marker once routing to journeys finished without
error. `unrouted` finds the pending ones (across tenants, for the recovery sweep) through a partial
index on the marker, so the index holds only events still to be routed. Events stored before
routing was tracked carry neither field and count as routed. Neither field is part of `Event`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.events import Event
from store.mongo import EVENTS, Document, collection
from store.pagination import Page, after, collect, decode_cursor, page_size

_ORDER = ["timestamp", "_id"]
_STORE_ONLY = ("_id", "event_id", "routed_at", "route_pending")
PENDING = "route_pending"
"""The marker field of events still to be routed (the partial index `unrouted` filters on it)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its routing state: `pending` until routing finished without error."""

    event: Event
    pending: bool
    routed_at: datetime | None


def event_from_document(doc: Document) -> Event:
    """The model of a stored document."""
    data = {key: value for key, value in doc.items() if key not in _STORE_ONLY}
    data["id"] = doc["event_id"]
    return Event.model_validate(data)


def event_document(event: Event) -> Document:
    """The stored form of an event (`event_id` is the client's id; `_id` is MongoDB's)."""
    doc = event.model_dump(exclude={"id"})
    doc["event_id"] = event.id
    doc["routed_at"] = None
    doc[PENDING] = True
    return doc


def _stored(doc: Document) -> StoredEvent:
    return StoredEvent(
        event_from_document(doc), pending=doc.get(PENDING) is True, routed_at=doc.get("routed_at")
    )


class EventRepository:
    """The `events` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._events = collection(db, EVENTS)

    async def insert(self, event: Event) -> bool:
        """Store the event; False when this tenant already stored an event with that id."""
        try:
            await self._events.insert_one(event_document(event))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, tenant_id: str, event_id: str) -> Event | None:
        """The event with this client id, or None."""
        doc = await self._events.find_one({"tenant_id": tenant_id, "event_id": event_id})
        return None if doc is None else event_from_document(doc)

    async def find(self, tenant_id: str, event_id: str) -> StoredEvent | None:
        """The event with this client id and its routing state, or None."""
        doc = await self._events.find_one({"tenant_id": tenant_id, "event_id": event_id})
        return None if doc is None else _stored(doc)

    async def mark_routed(self, tenant_id: str, event_ids: Sequence[str], at: datetime) -> int:
        """Record that these events reached every journey they target; how many were pending."""
        if not event_ids:
            return 0
        result = await self._events.update_many(
            {"tenant_id": tenant_id, "event_id": {"$in": list(event_ids)}, PENDING: True},
            {"$set": {"routed_at": at}, "$unset": {PENDING: ""}},
        )
        return result.modified_count

    async def unrouted(self, older_than: datetime, limit: int) -> list[StoredEvent]:
        """Events of every tenant received before `older_than` and not yet routed, oldest
        first (received time, then insertion order), at most `limit`.

        The one query across tenants: the recovery sweep serves them all; each event carries
        its tenant, and everything done with it is scoped to that tenant."""
        found = (
            self._events.find({PENDING: True, "received_at": {"$lt": older_than}})
            .sort([("received_at", 1), ("_id", 1)])
            .limit(limit)
        )
        return [_stored(doc) async for doc in found]

    async def list_for_customer(
        self,
        tenant_id: str,
        customer_id: str,
        *,
        event_type: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Event]:
        """The customer's events, oldest first (by event time)."""
        query: Document = {"tenant_id": tenant_id, "customer_id": customer_id}
        if event_type is not None:
            query["type"] = event_type
        if cursor is not None:
            query = {"$and": [query, after(_ORDER, decode_cursor(cursor, len(_ORDER)))]}
        size = page_size(limit)
        found = self._events.find(query).sort([(name, 1) for name in _ORDER]).limit(size + 1)
        return await collect(found, _ORDER, size, event_from_document)

    async def last_for_customer(
        self, tenant_id: str, customer_id: str, event_type: str | None = None
    ) -> Event | None:
        """The customer's latest event (of this type, if given), or None."""
        query: Document = {"tenant_id": tenant_id, "customer_id": customer_id}
        if event_type is not None:
            query["type"] = event_type
        doc = await self._events.find_one(query, sort=[("timestamp", -1), ("_id", -1)])
        return None if doc is None else event_from_document(doc)
