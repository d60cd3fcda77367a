"""A customer's timeline: events, deliveries and journey transitions merged in time order.

The merge happens in MongoDB: one aggregation starts on the first wanted collection and
`$unionWith`s the others, then sorts on `(at, kind, _id)`, which is unique, so keyset pagination
is stable. Events are placed by their `timestamp`, deliveries by `created_at`, transitions by `at`.

Each branch is first narrowed on its own: the cursor's position (translated to the branch's
time field, where an index serves it), then its own sort and `$limit` of one page. So a page
costs at most three index range scans of one page each, however long the history: the union
holds at most `3 * (page + 1)` rows before the final sort — a k-way merge of three sorted,
limited streams, done by the server in one round trip.

Events keep the customer they were recorded for, but merging repoints them to the surviving
customer; deliveries and transitions keep their enrollment's customer id, so a timeline reads
them for the customer and for every customer merged into it.

An event's `timestamp` is when it happened, as the client says; one reported late lands in the
past of the timeline, possibly before a page already read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from bson import ObjectId
from pydantic import BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

from domain.deliveries import Delivery
from domain.enrollments import Transition
from domain.errors import InvalidInput
from domain.events import Event
from store.deliveries import delivery_from_document
from store.enrollments import transition_from_document
from store.events import event_from_document
from store.mongo import (
    DEFAULT_MAX_TIME_MS,
    DELIVERIES,
    EVENTS,
    TRANSITIONS,
    Document,
    bounded_aggregate,
    collection,
)
from store.pagination import Page, decode_cursor, page_of, page_size

TimelineKind = Literal["delivery", "event", "transition"]
TIMELINE_KINDS: tuple[TimelineKind, ...] = ("delivery", "event", "transition")
_ORDER = ["at", "kind", "_id"]
_SOURCES: dict[TimelineKind, tuple[str, str]] = {
    "event": (EVENTS, "timestamp"),
    "delivery": (DELIVERIES, "created_at"),
    "transition": (TRANSITIONS, "at"),
}


class TimelineEntry(BaseModel):
    """One line of the timeline; exactly one of `event`, `delivery`, `transition` is set."""

    model_config = ConfigDict(frozen=True)

    kind: TimelineKind
    at: datetime
    event: Event | None = None
    delivery: Delivery | None = None
    transition: Transition | None = None


def _after(kind: TimelineKind, time_field: str, last: list[Any]) -> Document:
    """Documents of one branch (constant `kind`) strictly after `last` in `(at, kind, _id)`."""
    at, last_kind, last_id = last
    if kind > last_kind:
        return {time_field: {"$gte": at}}
    if kind < last_kind:
        return {time_field: {"$gt": at}}
    return {"$or": [{time_field: {"$gt": at}}, {time_field: at, "_id": {"$gt": last_id}}]}


def _position(cursor: str) -> list[Any]:
    """The `(at, kind, _id)` in a timeline cursor; `InvalidInput` unless it is one of ours."""
    at, kind, id_ = last = decode_cursor(cursor, len(_ORDER))
    if (
        not isinstance(at, datetime)
        or kind not in TIMELINE_KINDS
        or not isinstance(id_, str | ObjectId)
    ):
        raise InvalidInput.single("cursor", "not a valid cursor")
    return last


def _branch(kind: TimelineKind, match: Document, last: list[Any] | None, size: int) -> list[Any]:
    _, time_field = _SOURCES[kind]
    scoped = match if last is None else {"$and": [match, _after(kind, time_field, last)]}
    return [
        {"$match": scoped},
        {"$sort": {time_field: 1, "_id": 1}},
        {"$limit": size + 1},
        {
            "$project": {
                "_id": 1,
                "at": f"${time_field}",
                "kind": {"$literal": kind},
                "doc": "$$ROOT",
            }
        },
    ]


def _entry(row: Document) -> TimelineEntry:
    kind: TimelineKind = row["kind"]
    doc = row["doc"]
    if kind == "event":
        return TimelineEntry(kind=kind, at=row["at"], event=event_from_document(doc))
    if kind == "delivery":
        return TimelineEntry(kind=kind, at=row["at"], delivery=delivery_from_document(doc))
    return TimelineEntry(kind=kind, at=row["at"], transition=transition_from_document(doc))


class TimelineRepository:
    """Reads across `events`, `deliveries` and `transitions`."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._db = db
        self._max_time_ms = max_time_ms

    async def for_customer(
        self,
        tenant_id: str,
        customer_id: str | Sequence[str],
        *,
        kinds: Sequence[TimelineKind] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[TimelineEntry]:
        """The history of a customer (or of several ids: a customer and those merged into it),
        oldest first, of the given `kinds` (default all)."""
        ids = [customer_id] if isinstance(customer_id, str) else list(customer_id)
        match: Document = {"tenant_id": tenant_id, "customer_id": {"$in": ids}}
        last = _position(cursor) if cursor is not None else None
        wanted = [kind for kind in TIMELINE_KINDS if kinds is None or kind in kinds]
        if not wanted:
            return Page()
        size = page_size(limit)
        first, *others = wanted
        pipeline: list[Document] = _branch(first, match, last, size)
        for kind in others:
            pipeline.append(
                {
                    "$unionWith": {
                        "coll": _SOURCES[kind][0],
                        "pipeline": _branch(kind, match, last, size),
                    }
                }
            )
        pipeline += [{"$sort": {name: 1 for name in _ORDER}}, {"$limit": size + 1}]
        rows = await bounded_aggregate(
            collection(self._db, _SOURCES[first][0]), pipeline, self._max_time_ms, "the timeline"
        )
        return page_of(rows, _ORDER, size, _entry)
