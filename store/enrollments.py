"""Enrollment projections (`enrollments`, `_id` = workflow id) and transitions.

The projection only moves forward: a write carries the enrollment's `seq`, and a conditional
upsert ignores one whose `seq` is not newer than the stored one. Transitions are insert-or-ignore
on `(tenant_id, enrollment_id, seq)`, so replaying a workflow or retrying an activity adds nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from domain.enrollments import RUNNING_STATUSES, Enrollment, EnrollmentStatus, Transition
from store.mongo import (
    CUSTOMERS,
    DUPLICATE_KEY,
    ENROLLMENTS,
    TRANSITIONS,
    Document,
    collection,
    id_to_field,
    without_object_id,
)
from store.pagination import Page, after, collect, decode_cursor, page_size

_ORDER = ["started_at", "_id"]
MAX_MERGE_DEPTH = 8


def _enrollment(doc: Document) -> Enrollment:
    return Enrollment.model_validate(id_to_field(doc))


def transition_from_document(doc: Document) -> Transition:
    """The model of a stored document."""
    return Transition.model_validate(without_object_id(doc))


class EnrollmentRepository:
    """The `enrollments` and `transitions` collections."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._enrollments = collection(db, ENROLLMENTS)
        self._transitions = collection(db, TRANSITIONS)
        self._customers = collection(db, CUSTOMERS)

    async def upsert_projection(self, enrollment: Enrollment) -> bool:
        """Store the projection unless a newer (or equal) `seq` is stored; whether it was."""
        doc = enrollment.model_dump(exclude={"id"})
        try:
            result = await self._enrollments.replace_one(
                {
                    "_id": enrollment.id,
                    "tenant_id": enrollment.tenant_id,
                    "seq": {"$lt": enrollment.seq},
                },
                doc,
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the stored projection is as new or newer: the upsert hit its _id
        return result.upserted_id is not None or result.modified_count == 1

    async def get(self, tenant_id: str, enrollment_id: str) -> Enrollment | None:
        """The projection, or None."""
        doc = await self._enrollments.find_one({"_id": enrollment_id, "tenant_id": tenant_id})
        return None if doc is None else _enrollment(doc)

    async def list(
        self,
        tenant_id: str,
        *,
        journey_id: str | None = None,
        version: int | None = None,
        node: str | None = None,
        status: EnrollmentStatus | Sequence[EnrollmentStatus] | None = None,
        customer_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Enrollment]:
        """Enrollments in start order, filtered by journey, version, current node, status, customer."""
        query: Document = {"tenant_id": tenant_id}
        if journey_id is not None:
            query["journey_id"] = journey_id
        if version is not None:
            query["version"] = version
        if node is not None:
            query["current_node"] = node
        if isinstance(status, str):
            query["status"] = status
        elif status is not None:
            query["status"] = {"$in": list(status)}
        if customer_id is not None:
            query["customer_id"] = customer_id
        if cursor is not None:
            query = {"$and": [query, after(_ORDER, decode_cursor(cursor, len(_ORDER)))]}
        size = page_size(limit)
        found = self._enrollments.find(query).sort([(name, 1) for name in _ORDER]).limit(size + 1)
        return await collect(found, _ORDER, size, _enrollment)

    async def running_for_customer(
        self, tenant_id: str, customer_id: str
    ) -> builtins.list[Enrollment]:
        """The customer's active or paused enrollments (the ones an event may be routed to).

        Enrollments started by customers since merged into this one are included: their
        workflows keep the old customer id but now follow this customer's events.
        """
        customer_ids = await self._with_merged(tenant_id, customer_id)
        found = self._enrollments.find(
            {
                "tenant_id": tenant_id,
                "customer_id": {"$in": customer_ids},
                "status": {"$in": list(RUNNING_STATUSES)},
            }
        ).sort([(name, 1) for name in _ORDER])
        return [_enrollment(doc) async for doc in found]

    async def _with_merged(self, tenant_id: str, customer_id: str) -> builtins.list[str]:
        ids = [customer_id]
        frontier = [customer_id]
        for _ in range(MAX_MERGE_DEPTH):
            merged = await self._customers.find(
                {"tenant_id": tenant_id, "merged_into": {"$in": frontier}}, projection={"_id": 1}
            ).to_list(None)
            frontier = [doc["_id"] for doc in merged if doc["_id"] not in ids]
            if not frontier:
                break
            ids += frontier
        return ids

    async def record_transitions(self, transitions: Sequence[Transition]) -> int:
        """Insert the transitions, ignoring ones already stored; how many were new."""
        if not transitions:
            return 0
        docs = [transition.model_dump() for transition in transitions]
        try:
            result = await self._transitions.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors) or exc.details.get(
                "writeConcernErrors"
            ):
                raise
            return int(exc.details.get("nInserted", 0))
        return len(result.inserted_ids)

    async def transitions_for_enrollment(
        self,
        tenant_id: str,
        enrollment_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Transition]:
        """The enrollment's transitions in step order."""
        query: Document = {"tenant_id": tenant_id, "enrollment_id": enrollment_id}
        if cursor is not None:
            query = {"$and": [query, after(["seq"], decode_cursor(cursor, 1))]}
        size = page_size(limit)
        found = self._transitions.find(query).sort("seq", 1).limit(size + 1)
        return await collect(found, ["seq"], size, transition_from_document)
