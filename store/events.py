"""Stored events: idempotent by `(tenant_id, event_id)`, read per customer in time order."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.events import Event
from store.mongo import EVENTS, Document, collection
from store.pagination import Page, after, collect, decode_cursor, page_size

_ORDER = ["timestamp", "_id"]


def event_from_document(doc: Document) -> Event:
    """The model of a stored document."""
    data = {key: value for key, value in doc.items() if key not in ("_id", "event_id")}
    data["id"] = doc["event_id"]
    return Event.model_validate(data)


def event_document(event: Event) -> Document:
    """The stored form of an event (`event_id` is the client's id; `_id` is MongoDB's)."""
    doc = event.model_dump(exclude={"id"})
    doc["event_id"] = event.id
    return doc


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
