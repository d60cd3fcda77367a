"""Stored events: idempotent by `(tenant_id, event_id)`, read per customer in time order.

Routing state: an event is inserted with `routed_at: null` and a `route_pending: true` marker;
`mark_routed` sets `routed_at` and removes the marker once routing to journeys finished without
error. The recovery sweep finds the pending ones through partial indexes on the marker, so they
hold only events still to be routed: `tenants_due` (across tenants) names the tenants with some,
`due` reads one tenant's share; `unrouted` lists them across tenants, oldest first. Events stored before
routing was tracked carry neither field and count as routed. Neither field is part of `Event`.

Routing that fails is retried a bounded number of times (`record_failure`): the event keeps its
attempt count, last error and the time of its next attempt (`route_retry_at`); `due` skips it until
then. Once out of attempts it is parked: the pending marker is replaced by `route_dead`, so sweeps
leave it alone, and `store.dead_letters` lists, inspects and revives it. An event may also name a
preparation (`route_prepare`), work the router must redo before routing it (see `IngestService`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.events import Event
from store.mongo import EVENTS, Document, collection
from store.pagination import Page, after, collect, decode_cursor, page_size

_ORDER = ["timestamp", "_id"]
PENDING = "route_pending"
"""The marker field of events still to be routed (the partial index `unrouted` filters on it)."""
ATTEMPTS = "route_attempts"
LAST_ERROR = "route_error"
RETRY_AT = "route_retry_at"
DEAD = "route_dead"
"""The marker field of parked events (dead letters): out of routing attempts."""
DEAD_AT = "route_dead_at"
PREPARE = "route_prepare"
MAX_WAITING = 1000
"""Events waiting out a backoff `due` reads up front to keep their customers' later events out of
its query (past that, it checks the customers it found instead)."""
_STORE_ONLY = (
    "_id",
    "event_id",
    "routed_at",
    PENDING,
    ATTEMPTS,
    LAST_ERROR,
    RETRY_AT,
    DEAD,
    DEAD_AT,
    PREPARE,
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its routing state: `pending` until routing finished without error (or it
    was parked: `dead_at`); failed `attempts`, the `last_error`, when the next attempt is due
    (`retry_at`), and the `prepare` step routing must run first, if any."""

    event: Event
    pending: bool
    routed_at: datetime | None
    attempts: int = 0
    last_error: str | None = None
    retry_at: datetime | None = None
    dead_at: datetime | None = None
    prepare: str | None = None


def event_from_document(doc: Document) -> Event:
    """The model of a stored document."""
    data = {key: value for key, value in doc.items() if key not in _STORE_ONLY}
    data["id"] = doc["event_id"]
    return Event.model_validate(data)


def event_document(event: Event, prepare: str | None = None) -> Document:
    """The stored form of an event (`event_id` is the client's id; `_id` is MongoDB's)."""
    doc = event.model_dump(exclude={"id"})
    doc["event_id"] = event.id
    doc["routed_at"] = None
    doc[PENDING] = True
    if prepare is not None:
        doc[PREPARE] = prepare
    return doc


def stored_event(doc: Document) -> StoredEvent:
    """The event of a stored document with its routing state."""
    return StoredEvent(
        event_from_document(doc),
        pending=doc.get(PENDING) is True,
        routed_at=doc.get("routed_at"),
        attempts=int(doc.get(ATTEMPTS) or 0),
        last_error=doc.get(LAST_ERROR),
        retry_at=doc.get(RETRY_AT),
        dead_at=doc.get(DEAD_AT),
        prepare=doc.get(PREPARE),
    )


def _due_now(now: datetime) -> Document:
    # Never failed (no retry time) or its backoff is over.
    return {"$or": [{RETRY_AT: None}, {RETRY_AT: {"$lte": now}}]}


class EventRepository:
    """The `events` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._events = collection(db, EVENTS)

    async def insert(self, event: Event, *, prepare: str | None = None) -> bool:
        """Store the event (with the preparation routing must run first, if any); False when
        this tenant already stored an event with that id."""
        try:
            await self._events.insert_one(event_document(event, prepare))
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
        return None if doc is None else stored_event(doc)

    async def mark_routed(self, tenant_id: str, event_ids: Sequence[str], at: datetime) -> int:
        """Record that these events reached every journey they target; how many were pending."""
        if not event_ids:
            return 0
        result = await self._events.update_many(
            {"tenant_id": tenant_id, "event_id": {"$in": list(event_ids)}, PENDING: True},
            {"$set": {"routed_at": at}, "$unset": {PENDING: "", RETRY_AT: ""}},
        )
        return result.modified_count

    async def record_failure(
        self,
        tenant_id: str,
        event_id: str,
        error: str,
        at: datetime,
        backoff: Callable[[int], timedelta | None],
    ) -> StoredEvent | None:
        """Count a failed routing attempt of a pending event, with its error: `backoff(attempts)`
        is the wait before the next one, or None to park it (a dead letter). The event after
        the change; None when it is not pending (routed meanwhile, or unknown)."""
        query = {"tenant_id": tenant_id, "event_id": event_id, PENDING: True}
        doc = await self._events.find_one_and_update(
            query,
            {"$inc": {ATTEMPTS: 1}, "$set": {LAST_ERROR: error}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        wait = backoff(int(doc[ATTEMPTS]))
        if wait is None:
            change: Document = {
                "$set": {DEAD: True, DEAD_AT: at},
                "$unset": {PENDING: "", RETRY_AT: ""},
            }
        else:
            change = {"$set": {RETRY_AT: at + wait}}
        doc = await self._events.find_one_and_update(
            query, change, return_document=ReturnDocument.AFTER
        )
        return None if doc is None else stored_event(doc)

    async def tenants_due(self, now: datetime, older_than: datetime, limit: int) -> list[str]:
        """Tenants with events to recover (pending, received before `older_than`, not waiting
        out a backoff), the one whose oldest such event is oldest first; at most `limit`."""
        found = await self._events.aggregate(
            [
                {"$match": {PENDING: True, "received_at": {"$lt": older_than}, **_due_now(now)}},
                {"$group": {"_id": "$tenant_id", "oldest": {"$min": "$received_at"}}},
                {"$sort": {"oldest": 1, "_id": 1}},
                {"$limit": limit},
            ]
        )
        return [str(doc["_id"]) async for doc in found]

    async def due(
        self, tenant_id: str, now: datetime, older_than: datetime, limit: int
    ) -> list[StoredEvent]:
        """The tenant's events to recover now, oldest first, at most `limit`: pending, received
        before `older_than`, not waiting out a backoff, and not received after an event of the
        same customer that is (it goes first, keeping the customer's order, until parked)."""
        query: Document = {
            "tenant_id": tenant_id,
            PENDING: True,
            "received_at": {"$lt": older_than},
            **_due_now(now),
        }
        waiting, complete = await self._first_waiting(tenant_id, now, None)
        if waiting:
            # Left out by the query, so they take no room from other customers' events.
            query["$nor"] = [
                {"customer_id": customer, "received_at": {"$gte": received}}
                for customer, received in waiting.items()
            ]
        found = self._events.find(query).sort([("received_at", 1), ("_id", 1)]).limit(limit)
        due = [stored_event(doc) async for doc in found]
        if not complete:
            customers = sorted({item.event.customer_id for item in due} - set(waiting))
            waiting.update((await self._first_waiting(tenant_id, now, customers))[0])
        return [
            item
            for item in due
            if item.event.customer_id not in waiting
            or item.event.received_at < waiting[item.event.customer_id]
        ]

    async def _first_waiting(
        self, tenant_id: str, now: datetime, customers: Sequence[str] | None
    ) -> tuple[dict[str, datetime], bool]:
        """Customers (of these, or any) with a pending event waiting out a backoff, and when the
        first of them was received; and whether that is all of them (at most `MAX_WAITING`
        events are read when no customers are given)."""
        query: Document = {"tenant_id": tenant_id, PENDING: True, RETRY_AT: {"$gt": now}}
        if customers is not None:
            query["customer_id"] = {"$in": list(customers)}
        found = self._events.find(query, {"customer_id": 1, "received_at": 1}).sort(
            [("received_at", 1), ("_id", 1)]
        )
        if customers is None:
            found = found.limit(MAX_WAITING)
        first: dict[str, datetime] = {}
        read = 0
        async for doc in found:
            read += 1
            first.setdefault(doc["customer_id"], doc["received_at"])
        return first, customers is not None or read < MAX_WAITING

    async def unrouted(self, older_than: datetime, limit: int) -> list[StoredEvent]:
        """Events of every tenant received before `older_than` and not yet routed, oldest
        first (received time, then insertion order), at most `limit`.

        Across tenants (each event carries its tenant, and everything done with it is scoped to
        that tenant); the sweep itself reads per tenant (`tenants_due`, `due`) to be fair."""
        found = (
            self._events.find({PENDING: True, "received_at": {"$lt": older_than}})
            .sort([("received_at", 1), ("_id", 1)])
            .limit(limit)
        )
        return [stored_event(doc) async for doc in found]

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
