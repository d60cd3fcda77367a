"""Bulk operations (`operations`): one document per pause/resume/cancel of a journey's enrollments
(and per segment entry, migration and simulation).

An operation is created `pending`, turns `running` when a process starts working on it, and ends
`succeeded` (every target handled) or `failed` (some target could not be signalled, or the run
itself broke). Progress counters move with `$inc`, so a reader always sees a consistent
`done + skipped + failed <= total`. The first `MAX_ERRORS` per-enrollment errors are kept.

A running operation carries a lease (`lease_until`), extended as it progresses. When the process
working on it dies, the lease runs out and another process may `claim` it (a conditional update,
so exactly one does) and carry on.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from domain.enrollments import EnrollmentStatus
from store.mongo import (
    DEFAULT_MAX_TIME_MS,
    ENROLLMENTS,
    OPERATIONS,
    Document,
    bounded_count,
    collection,
    id_to_field,
)
from store.pagination import Page, after, collect, decode_cursor, page_size

OperationKind = Literal["pause", "resume", "cancel", "enroll", "migrate", "simulate"]
OperationStatus = Literal["pending", "running", "succeeded", "failed"]
FINAL_STATUSES: tuple[OperationStatus, ...] = ("succeeded", "failed")
MAX_ERRORS = 20
_ORDER = ["created_at", "_id"]


class OperationError(BaseModel):
    """Why one enrollment could not be operated on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enrollment_id: str
    message: str


class BulkOperation(BaseModel):
    """A tracked operation over a journey's enrollments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tenant_id: str
    kind: OperationKind
    journey_id: str
    version: int | None = Field(default=None, description="Only enrollments on this version.")
    reason: str | None = None
    segment: dict[str, Any] | None = Field(
        default=None, description="`enroll`: the customer search whose customers it enrolls."
    )
    per_second: float | None = Field(
        default=None, gt=0, description="`enroll`: enrollments started per second, at most."
    )
    cursor: str | None = Field(
        default=None, description="`enroll`: where the scan of the segment resumes."
    )
    to_version: int | None = Field(default=None, description="`migrate`: the version moved to.")
    mapping: dict[str, str] | None = Field(
        default=None, description="`migrate`: node of `version` → node of `to_version`."
    )
    simulation: dict[str, Any] | None = Field(
        default=None,
        description="`simulate`: the request (definition, cohort, days; "
        "`api.services.simulations.SimulationRequest` as JSON); its counts are customers.",
    )
    status: OperationStatus = "pending"
    total: int = Field(default=0, ge=0, description="Enrollments selected.")
    done: int = Field(default=0, ge=0, description="Enrollments signalled.")
    skipped: int = Field(default=0, ge=0, description="Enrollments that ended before the signal.")
    failed: int = Field(default=0, ge=0, description="Enrollments that could not be signalled.")
    errors: list[OperationError] = Field(default_factory=list, max_length=MAX_ERRORS)
    error: str | None = Field(default=None, description="Why the operation itself failed.")
    created_by: str = Field(description="The API key id that asked for it.")
    created_at: AwareDatetime
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    lease_until: AwareDatetime | None = None
    attempts: int = Field(default=0, ge=0, description="Runs started (more than 1 after takeover).")

    @property
    def finished(self) -> bool:
        """Whether it has ended, successfully or not."""
        return self.status in FINAL_STATUSES

    @property
    def handled(self) -> int:
        """Targets dealt with so far, however it went."""
        return self.done + self.skipped + self.failed


class LeaseLostError(Exception):
    """Another process claimed the operation since this one did (this one's lease ran out)."""

    def __init__(self, operation_id: str) -> None:
        super().__init__(f"operation {operation_id} was taken over by another process")
        self.operation_id = operation_id


def _fence(attempt: int | None) -> Document:
    """The filter term that holds only while the claim numbered `attempt` is the latest."""
    return {} if attempt is None else {"attempts": attempt}


def _operation(doc: Document) -> BulkOperation:
    return BulkOperation.model_validate(id_to_field(doc))


class OperationRepository:
    """The `operations` collection, and the enrollment selection operations work through."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._operations = collection(db, OPERATIONS)
        self._enrollments = collection(db, ENROLLMENTS)
        self._max_time_ms = max_time_ms

    async def create(self, operation: BulkOperation) -> BulkOperation:
        """Store a new operation."""
        # `started_at` stays absent until a claim: `$min` keeps a stored null (null sorts first).
        unset = {"started_at"} if operation.started_at is None else set()
        await self._operations.insert_one(
            operation.model_dump(exclude={"id", *unset}) | {"_id": operation.id}
        )
        return operation

    async def get(self, tenant_id: str, operation_id: str) -> BulkOperation | None:
        """The operation, or None."""
        doc = await self._operations.find_one({"_id": operation_id, "tenant_id": tenant_id})
        return None if doc is None else _operation(doc)

    async def list(
        self,
        tenant_id: str,
        *,
        journey_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[BulkOperation]:
        """Operations in creation order, optionally of one journey."""
        query: Document = {"tenant_id": tenant_id}
        if journey_id is not None:
            query["journey_id"] = journey_id
        if cursor is not None:
            query = {"$and": [query, after(_ORDER, decode_cursor(cursor, len(_ORDER)))]}
        size = page_size(limit)
        found = self._operations.find(query).sort([(name, 1) for name in _ORDER]).limit(size + 1)
        return await collect(found, _ORDER, size, _operation)

    async def count(self, tenant_id: str, *, journey_id: str | None = None) -> int:
        """How many operations `list` would page through."""
        query: Document = {"tenant_id": tenant_id}
        if journey_id is not None:
            query["journey_id"] = journey_id
        return await bounded_count(self._operations, query, self._max_time_ms, "operations")

    async def claim(
        self, tenant_id: str, operation_id: str, *, now: datetime, lease_until: datetime
    ) -> BulkOperation | None:
        """Take the operation to work on it: when pending, or running with an expired lease.

        None when it is finished or another process holds a live lease.
        """
        doc = await self._operations.find_one_and_update(
            {
                "_id": operation_id,
                "tenant_id": tenant_id,
                "$or": [
                    {"status": "pending"},
                    {"status": "running", "lease_until": {"$lt": now}},
                ],
            },
            {
                "$set": {"status": "running", "lease_until": lease_until},
                "$min": {"started_at": now},
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _operation(doc)

    async def release(self, tenant_id: str, operation_id: str, *, now: datetime) -> None:
        """Give up the lease of a running operation (its process is shutting down), so another
        process may `claim` it at once."""
        await self._operations.update_one(
            {"_id": operation_id, "tenant_id": tenant_id, "status": "running"},
            {"$set": {"lease_until": now - timedelta(microseconds=1)}},
        )

    async def abandoned(
        self, *, now: datetime, pending_before: datetime, limit: int = 100
    ) -> builtins.list[tuple[str, str]]:
        """(tenant, id) of unfinished operations of any tenant no process works on: running with
        an expired lease, or pending since before `pending_before`; oldest first."""
        found = self._operations.find(
            {
                "$or": [
                    {"status": "running", "lease_until": {"$lt": now}},
                    {"status": "pending", "created_at": {"$lt": pending_before}},
                ]
            },
            projection={"tenant_id": 1},
        )
        docs = await found.sort("created_at", 1).limit(limit).to_list(None)
        return [(doc["tenant_id"], doc["_id"]) for doc in docs]

    async def set_total(self, tenant_id: str, operation_id: str, total: int) -> None:
        """Record how many enrollments the operation covers."""
        await self._operations.update_one(
            {"_id": operation_id, "tenant_id": tenant_id}, {"$set": {"total": total}}
        )

    async def restart_progress(
        self, tenant_id: str, operation_id: str, total: int, *, attempt: int | None = None
    ) -> None:
        """Count again from nothing over `total` targets (a run that cannot resume half way,
        such as a simulation taken over, starts over). With `attempt` (see `record_progress`),
        only while that claim is the latest, else `LeaseLostError`."""
        answer = await self._operations.update_one(
            {"_id": operation_id, "tenant_id": tenant_id, **_fence(attempt)},
            {"$set": {"total": total, "done": 0, "skipped": 0, "failed": 0}},
        )
        if attempt is not None and answer.matched_count == 0:
            raise LeaseLostError(operation_id)

    async def record_progress(
        self,
        tenant_id: str,
        operation_id: str,
        *,
        done: int,
        skipped: int,
        failed: int,
        errors: Sequence[OperationError],
        lease_until: datetime,
        cursor: str | None = None,
        attempt: int | None = None,
    ) -> None:
        """Add one batch's outcome and extend the lease (and, for a segment, move its cursor).

        `attempt` is the `attempts` of the claim the caller works under: when another process
        has claimed the operation since (the caller's lease ran out while it was stalled),
        nothing is written and `LeaseLostError` is raised, so the caller stops instead of
        counting and moving the cursor alongside the new owner."""
        update: Document = {
            "$inc": {"done": done, "skipped": skipped, "failed": failed},
            "$set": {"lease_until": lease_until, **({"cursor": cursor} if cursor else {})},
        }
        if errors:
            update["$push"] = {
                "errors": {"$each": [e.model_dump() for e in errors], "$slice": MAX_ERRORS}
            }
        answer = await self._operations.update_one(
            {"_id": operation_id, "tenant_id": tenant_id, **_fence(attempt)}, update
        )
        if attempt is not None and answer.matched_count == 0:
            raise LeaseLostError(operation_id)

    async def finish(
        self,
        tenant_id: str,
        operation_id: str,
        status: OperationStatus,
        at: datetime,
        error: str | None = None,
        total_at_least: int = 0,
        attempt: int | None = None,
    ) -> BulkOperation | None:
        """Mark the operation ended; the final document.

        `total_at_least` raises the total to the targets handled (enrollments started while it
        ran may have joined the selection). With `attempt` (see `record_progress`), only while
        no other process has claimed it since: None otherwise, and nothing written.
        """
        doc = await self._operations.find_one_and_update(
            {"_id": operation_id, "tenant_id": tenant_id, **_fence(attempt)},
            {
                "$set": {"status": status, "finished_at": at, "lease_until": None, "error": error},
                "$max": {"total": total_at_least},
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _operation(doc)

    def _target_query(
        self,
        tenant_id: str,
        journey_id: str,
        version: int | None,
        statuses: Sequence[EnrollmentStatus],
    ) -> Document:
        query: Document = {
            "tenant_id": tenant_id,
            "journey_id": journey_id,
            "status": {"$in": list(statuses)},
        }
        if version is not None:
            query["version"] = version
        return query

    async def count_targets(
        self,
        tenant_id: str,
        journey_id: str,
        version: int | None,
        statuses: Sequence[EnrollmentStatus],
    ) -> int:
        """How many enrollments of the journey the projection shows in one of `statuses`."""
        query = self._target_query(tenant_id, journey_id, version, statuses)
        return await self._enrollments.count_documents(query)

    async def targets(
        self,
        tenant_id: str,
        journey_id: str,
        version: int | None,
        statuses: Sequence[EnrollmentStatus],
        batch: int = 100,
    ) -> AsyncIterator[builtins.list[str]]:
        """Ids of those enrollments, in batches, by id (a keyset, so it is stable under change).

        Enrollment ids start with `{tenant}:{journey}:` (`domain.enrollments.enrollment_id`), so
        each batch is a short range scan of the `_id` index.
        """
        prefix = f"{tenant_id}:{journey_id}:"
        last = prefix
        while True:
            query = self._target_query(tenant_id, journey_id, version, statuses)
            query["_id"] = {"$gt": last, "$lt": prefix[:-1] + chr(ord(":") + 1)}
            found = self._enrollments.find(query, projection={"_id": 1}).sort("_id", 1)
            ids = [doc["_id"] async for doc in found.limit(batch)]
            if not ids:
                return
            yield ids
            last = ids[-1]
