"""Dead letters: stored events whose routing failed too often, parked out of the recovery sweep.

They stay in `events`, marked `route_dead` (see `store.events`, whose `record_failure` parks
them). This repository lists a tenant's (oldest parked first, by type or customer), reads one,
and revives some: pending again with a fresh attempt count, for the router to try at once.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store.events import ATTEMPTS, DEAD, DEAD_AT, PENDING, RETRY_AT, StoredEvent, stored_event
from store.mongo import DEFAULT_MAX_TIME_MS, EVENTS, Document, bounded_count, collection
from store.pagination import Page, after, collect, decode_cursor, page_size

_ORDER = [DEAD_AT, "_id"]
MAX_REVIVE = 100
"""Dead letters one `revive` call takes, at most."""


def _query(tenant_id: str, event_type: str | None, customer_id: str | None) -> Document:
    query: Document = {"tenant_id": tenant_id, DEAD: True}
    if event_type is not None:
        query["type"] = event_type
    if customer_id is not None:
        query["customer_id"] = customer_id
    return query


class DeadLetterRepository:
    """The parked events of the `events` collection."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._events = collection(db, EVENTS)
        self._max_time_ms = max_time_ms

    async def list(
        self,
        tenant_id: str,
        *,
        event_type: str | None = None,
        customer_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[StoredEvent]:
        """The tenant's dead letters (of this type, of this customer), oldest parked first."""
        query = _query(tenant_id, event_type, customer_id)
        if cursor is not None:
            query = {"$and": [query, after(_ORDER, decode_cursor(cursor, len(_ORDER)))]}
        size = page_size(limit)
        found = self._events.find(query).sort([(name, 1) for name in _ORDER]).limit(size + 1)
        return await collect(found, _ORDER, size, stored_event)

    async def count(
        self, tenant_id: str, *, event_type: str | None = None, customer_id: str | None = None
    ) -> int:
        """How many dead letters `list` would walk through."""
        query = _query(tenant_id, event_type, customer_id)
        return await bounded_count(self._events, query, self._max_time_ms, "dead letters")

    async def get(self, tenant_id: str, event_id: str) -> StoredEvent | None:
        """The tenant's dead letter with this event id, or None (unknown, or not parked)."""
        doc = await self._events.find_one(
            {"tenant_id": tenant_id, "event_id": event_id, DEAD: True}
        )
        return None if doc is None else stored_event(doc)

    async def revive(self, tenant_id: str, event_ids: Sequence[str]) -> builtins.list[StoredEvent]:
        """Make these dead letters pending again with no attempts counted (the last error is
        kept until the next attempt); the ones that were dead letters, as revived."""
        ids = list(dict.fromkeys(event_ids))[:MAX_REVIVE]
        query = {"tenant_id": tenant_id, "event_id": {"$in": ids}, DEAD: True}
        found = [doc async for doc in self._events.find(query)]
        if not found:
            return []
        await self._events.update_many(
            # Only the ones read: one parked in between is left for the next call.
            {**query, "_id": {"$in": [doc["_id"] for doc in found]}},
            {
                "$set": {PENDING: True, ATTEMPTS: 0},
                "$unset": {DEAD: "", DEAD_AT: "", RETRY_AT: ""},
            },
        )
        revived = {doc["event_id"]: doc for doc in found}
        out: builtins.list[StoredEvent] = []
        for event_id in ids:
            doc = revived.get(event_id)
            if doc is None:
                continue
            doc = {**doc, PENDING: True, ATTEMPTS: 0}
            for name in (DEAD, DEAD_AT, RETRY_AT):
                doc.pop(name, None)
            out.append(stored_event(doc))
        return out
