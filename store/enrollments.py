"""Enrollment projections (`enrollments`, `_id` = workflow id), earlier runs, and transitions.

The projection only moves forward: a write replaces the stored one only when it is newer, that is
from a later run (`started_at`) or from the same run with a higher `seq` (see
`domain.enrollments`). Where a customer re-enters a journey, the new run's first write replaces
the last run's projection; that one is kept first in `enrollment_runs` (`_id` = `run_id`), so
no run is lost. Transitions are insert-or-ignore on `(tenant_id, enrollment_id, run_started_at,
seq)`, so replaying a workflow or retrying an activity adds nothing, and a new run's steps never
collide with an earlier run's. Reads of an enrollment's transitions return one run's (by default
the current one); records from before runs were told apart (no `run_started_at`) belong to the
run during which they were taken.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from domain.enrollments import (
    RUNNING_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Transition,
    run_id,
)
from store.customers.merges import merged_ids
from store.mongo import (
    CUSTOMERS,
    DEFAULT_MAX_TIME_MS,
    DUPLICATE_KEY,
    ENROLLMENT_RUNS,
    ENROLLMENTS,
    TRANSITIONS,
    Document,
    bounded_aggregate,
    bounded_count,
    collection,
    id_to_field,
    stored_time,
    without_object_id,
)
from store.pagination import Page, after, collect, decode_cursor, first_pages, page_size

_ORDER = ["started_at", "_id"]
# compare-and-swap rounds of one projection write; only concurrent writers of one enrollment
# (a retried activity racing a late attempt) ever need a second
_WRITE_ROUNDS = 4


def _enrollment(doc: Document) -> Enrollment:
    return Enrollment.model_validate(id_to_field(doc))


def _run_from_document(doc: Document) -> Enrollment:
    fields = {key: value for key, value in doc.items() if key not in ("_id", "enrollment_id")}
    return Enrollment.model_validate({**fields, "id": doc["enrollment_id"]})


def _as_stored(enrollment: Enrollment) -> Enrollment:
    return enrollment.model_copy(update={"started_at": stored_time(enrollment.started_at)})


def _run_transitions(run: Enrollment) -> Document:
    """A filter for the transitions of `run`: stamped with its start, or unstamped (written before
    runs were told apart) and taken while it ran."""
    taken: Document = {"$gte": run.started_at}
    if run.ended_at is not None:
        taken["$lte"] = run.ended_at
    return {"$or": [{"run_started_at": run.started_at}, {"run_started_at": None, "at": taken}]}


def transition_from_document(doc: Document) -> Transition:
    """The model of a stored document."""
    return Transition.model_validate(without_object_id(doc))


class EnrollmentRepository:
    """The `enrollments`, `enrollment_runs` and `transitions` collections."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._enrollments = collection(db, ENROLLMENTS)
        self._runs = collection(db, ENROLLMENT_RUNS)
        self._transitions = collection(db, TRANSITIONS)
        self._customers = collection(db, CUSTOMERS)
        self._max_time_ms = max_time_ms

    async def upsert_projection(self, enrollment: Enrollment) -> bool:
        """Store the projection unless the stored one is as new or newer; whether it was.

        A projection of a newer run replaces the stored one only after that has been kept as a
        run record (`runs`); a late write of an earlier run goes to that run's record instead.
        """
        enrollment = _as_stored(enrollment)
        doc = enrollment.model_dump(exclude={"id"})
        key: Document = {"_id": enrollment.id, "tenant_id": enrollment.tenant_id}
        if enrollment.seq == 1:
            # a run's first write: usually a new enrollment (one round trip); a re-entry's or a
            # repeated first write finds the id taken and goes the usual way
            with contextlib.suppress(DuplicateKeyError):
                await self._enrollments.insert_one({"_id": enrollment.id, **doc})
                return True
        # the usual write: the same run, one step further (one round trip)
        same_run = {**key, "started_at": enrollment.started_at, "seq": {"$lt": enrollment.seq}}
        if (await self._enrollments.replace_one(same_run, doc)).matched_count == 1:
            return True
        for _ in range(_WRITE_ROUNDS):
            found = await self._enrollments.find_one(key)
            if found is None:
                try:
                    await self._enrollments.insert_one({"_id": enrollment.id, **doc})
                except DuplicateKeyError:
                    continue  # written meanwhile (or the id is another tenant's): look again
                return True
            stored = _enrollment(found)
            if not enrollment.newer_than(stored):
                if enrollment.started_at < stored.started_at:
                    await self._keep_run(enrollment)
                return False
            if stored.started_at < enrollment.started_at:
                await self._keep_run(stored)
            swapped = await self._enrollments.replace_one(
                {**key, "started_at": stored.started_at, "seq": stored.seq}, doc
            )
            if swapped.matched_count == 1:
                return True
        return False

    async def _keep_run(self, run: Enrollment) -> None:
        """Store `run` as its run record unless the record holds a newer write of it."""
        doc = {**run.model_dump(exclude={"id"}), "enrollment_id": run.id}
        record_id = run_id(run.id, run.started_at)
        # a duplicate key: the record already holds this write or a later one
        with contextlib.suppress(DuplicateKeyError):
            await self._runs.replace_one(
                {"_id": record_id, "tenant_id": run.tenant_id, "seq": {"$lt": run.seq}},
                doc,
                upsert=True,
            )

    async def runs(
        self,
        tenant_id: str,
        enrollment_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Enrollment]:
        """The enrollment's earlier runs (not the current one, `get`), oldest first; each as
        last recorded, with the enrollment's id."""
        query: Document = {"tenant_id": tenant_id, "enrollment_id": enrollment_id}
        if cursor is not None:
            query = {"$and": [query, after(["started_at"], decode_cursor(cursor, 1))]}
        size = page_size(limit)
        found = self._runs.find(query).sort("started_at", 1).limit(size + 1)
        return await collect(found, ["started_at"], size, _run_from_document)

    async def _run(
        self, tenant_id: str, enrollment_id: str, started_at: datetime | None
    ) -> Enrollment | None:
        """The run that started at `started_at` (the current one when None), if recorded."""
        current = await self.get(tenant_id, enrollment_id)
        if started_at is None or (
            current is not None and current.started_at == stored_time(started_at)
        ):
            return current
        doc = await self._runs.find_one(
            {"_id": run_id(enrollment_id, stored_time(started_at)), "tenant_id": tenant_id}
        )
        return None if doc is None else _run_from_document(doc)

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
        customer_ids = await merged_ids(self._customers, tenant_id, customer_id)
        found = self._enrollments.find(
            {
                "tenant_id": tenant_id,
                "customer_id": {"$in": customer_ids},
                "status": {"$in": list(RUNNING_STATUSES)},
            }
        ).sort([(name, 1) for name in _ORDER])
        return [_enrollment(doc) async for doc in found]

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
        run_started_at: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Transition]:
        """The transitions of one run of the enrollment (the current one unless `run_started_at`
        names an earlier run), in step order."""
        clauses: builtins.list[Document] = [
            {"tenant_id": tenant_id, "enrollment_id": enrollment_id}
        ]
        run = await self._run(tenant_id, enrollment_id, run_started_at)
        if run is not None:
            clauses.append(_run_transitions(run))
        elif run_started_at is not None:
            clauses.append({"run_started_at": run_started_at})
        if cursor is not None:
            clauses.append(after(["seq"], decode_cursor(cursor, 1)))
        size = page_size(limit)
        found = self._transitions.find({"$and": clauses}).sort("seq", 1).limit(size + 1)
        return await collect(found, ["seq"], size, transition_from_document)

    async def count_by_current_node(
        self,
        tenant_id: str,
        journey_id: str,
        version: int,
        statuses: Sequence[EnrollmentStatus] = RUNNING_STATUSES,
    ) -> dict[str, int]:
        """How many enrollments of the journey version (running ones by default) are at each
        node now: node id → count, nodes with none left out. One aggregation, grouped in MongoDB."""
        pipeline: builtins.list[Document] = [
            {
                "$match": {
                    "tenant_id": tenant_id,
                    "journey_id": journey_id,
                    "version": version,
                    "status": {"$in": list(statuses)},
                    "current_node": {"$ne": None},
                }
            },
            {"$group": {"_id": "$current_node", "count": {"$sum": 1}}},
        ]
        rows = await bounded_aggregate(
            self._enrollments, pipeline, self._max_time_ms, "enrollments per node"
        )
        return {str(doc["_id"]): int(doc["count"]) for doc in rows}

    # --- batched and counted reads (dataloaders, connection totals) ---------------------------

    async def first_pages_for_customers(
        self,
        tenant_id: str,
        customer_ids: Sequence[str],
        *,
        statuses: Sequence[EnrollmentStatus] = (),
        limit: int | None = None,
    ) -> dict[str, Page[Enrollment]]:
        """Each customer's first page of enrollments (start order), in one query."""
        match: Document = {"tenant_id": tenant_id}
        if statuses:
            match["status"] = {"$in": builtins.list(statuses)}
        return await first_pages(
            self._enrollments,
            match,
            "customer_id",
            customer_ids,
            _ORDER,
            page_size(limit),
            _enrollment,
            max_time_ms=self._max_time_ms,
        )

    async def first_transition_pages(
        self, tenant_id: str, enrollment_ids: Sequence[str], *, limit: int | None = None
    ) -> dict[str, Page[Transition]]:
        """Each enrollment's first page of transitions of its current run (step order): one
        query for the projections, one for the transitions."""
        if not enrollment_ids:
            return {}
        current = await self.get_many(tenant_id, enrollment_ids)
        # an enrollment without a projection yet (its first steps are being written) shows all
        per_enrollment = [
            {"enrollment_id": eid, **(_run_transitions(current[eid]) if eid in current else {})}
            for eid in dict.fromkeys(enrollment_ids)
        ]
        return await first_pages(
            self._transitions,
            {"tenant_id": tenant_id, "$or": per_enrollment},
            "enrollment_id",
            enrollment_ids,
            ["seq"],
            page_size(limit),
            transition_from_document,
            max_time_ms=self._max_time_ms,
        )

    async def get_many(
        self, tenant_id: str, enrollment_ids: Sequence[str]
    ) -> dict[str, Enrollment]:
        """The projections with these ids, by id; one query."""
        found = self._enrollments.find(
            {"tenant_id": tenant_id, "_id": {"$in": builtins.list(dict.fromkeys(enrollment_ids))}}
        )
        return {doc["_id"]: _enrollment(doc) async for doc in found}

    async def count(
        self,
        tenant_id: str,
        *,
        journey_id: str | None = None,
        version: int | None = None,
        node: str | None = None,
        status: Sequence[EnrollmentStatus] = (),
        customer_id: str | None = None,
    ) -> int:
        """How many enrollments `list` would page through with these filters."""
        query: Document = {"tenant_id": tenant_id}
        for name, value in (
            ("journey_id", journey_id),
            ("version", version),
            ("current_node", node),
            ("customer_id", customer_id),
        ):
            if value is not None:
                query[name] = value
        if status:
            query["status"] = {"$in": builtins.list(status)}
        return await bounded_count(self._enrollments, query, self._max_time_ms, "enrollments")
