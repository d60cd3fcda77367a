"""A customer's timeline: events, deliveries and journey transitions merged in time order.

One aggregation over `events` with `$unionWith` the other two collections, sorted on
`(at, kind, _id)`, which is unique, so keyset pagination stays stable. Events are placed by their
`timestamp`, deliveries by `created_at`, transitions by `at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

from domain.deliveries import Delivery
from domain.enrollments import Transition
from domain.events import Event
from store.deliveries import delivery_from_document
from store.enrollments import transition_from_document
from store.events import event_from_document
from store.mongo import DELIVERIES, EVENTS, TRANSITIONS, Document, collection
from store.pagination import Page, after, collect, decode_cursor, page_size

TimelineKind = Literal["delivery", "event", "transition"]
_ORDER = ["at", "kind", "_id"]


class TimelineEntry(BaseModel):
    """One line of the timeline; exactly one of `event`, `delivery`, `transition` is set."""

    model_config = ConfigDict(frozen=True)

    kind: TimelineKind
    at: datetime
    event: Event | None = None
    delivery: Delivery | None = None
    transition: Transition | None = None


def _branch(kind: TimelineKind, time_field: str, match: Document) -> list[Document]:
    return [
        {"$match": match},
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

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._events = collection(db, EVENTS)

    async def for_customer(
        self,
        tenant_id: str,
        customer_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[TimelineEntry]:
        """The customer's history, oldest first."""
        match: Document = {"tenant_id": tenant_id, "customer_id": customer_id}
        last = decode_cursor(cursor, len(_ORDER)) if cursor is not None else None

        def since(time_field: str) -> Document:
            # Narrow each branch by time on its own (indexed) field before the union.
            return match if last is None else {**match, time_field: {"$gte": last[0]}}

        pipeline: list[Document] = [
            *_branch("event", "timestamp", since("timestamp")),
            {
                "$unionWith": {
                    "coll": DELIVERIES,
                    "pipeline": _branch("delivery", "created_at", since("created_at")),
                }
            },
            {
                "$unionWith": {
                    "coll": TRANSITIONS,
                    "pipeline": _branch("transition", "at", since("at")),
                }
            },
        ]
        if last is not None:
            pipeline.append({"$match": after(_ORDER, last)})
        size = page_size(limit)
        pipeline += [{"$sort": {name: 1 for name in _ORDER}}, {"$limit": size + 1}]
        rows = await self._events.aggregate(pipeline)
        return await collect(rows, _ORDER, size, _entry)
