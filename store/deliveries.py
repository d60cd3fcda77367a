"""Deliveries: one per `(tenant_id, idempotency_key)`, enforced by a unique index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.deliveries import Delivery
from domain.errors import NotFoundError
from store.mongo import (
    DEFAULT_MAX_TIME_MS,
    DELIVERIES,
    Document,
    collection,
    without_object_id,
)
from store.pagination import Page, after, collect, decode_cursor, first_pages, page_size

_ORDER = ["created_at", "_id"]


def delivery_from_document(doc: Document) -> Delivery:
    """The model of a stored document."""
    return Delivery.model_validate(without_object_id(doc))


class DeliveryRepository:
    """The `deliveries` collection."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._deliveries = collection(db, DELIVERIES)
        self._max_time_ms = max_time_ms

    async def begin(self, delivery: Delivery) -> Delivery:
        """Record `delivery` as pending, or return the record already stored for its key.

        The caller performs the side effect unless the returned record has succeeded.
        """
        doc = delivery.model_dump()
        try:
            await self._deliveries.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._deliveries.find_one(
                {"tenant_id": delivery.tenant_id, "idempotency_key": delivery.idempotency_key}
            )
            if existing is None:  # pragma: no cover - deliveries are never deleted
                raise
            return delivery_from_document(existing)
        return delivery

    async def get(self, tenant_id: str, idempotency_key: str) -> Delivery | None:
        """The delivery for this key, or None."""
        doc = await self._deliveries.find_one(
            {"tenant_id": tenant_id, "idempotency_key": idempotency_key}
        )
        return None if doc is None else delivery_from_document(doc)

    async def mark_succeeded(
        self,
        tenant_id: str,
        idempotency_key: str,
        now: datetime,
        *,
        external_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Delivery:
        """Record success (once: a delivery that already succeeded is returned unchanged)."""
        update: Document = {
            "$set": {
                "status": "succeeded",
                "external_id": external_id,
                "error": None,
                "updated_at": now,
            },
            "$inc": {"attempts": 1},
        }
        if detail is not None:
            update["$set"]["detail"] = detail
        return await self._finish(tenant_id, idempotency_key, update)

    async def mark_failed(
        self,
        tenant_id: str,
        idempotency_key: str,
        now: datetime,
        *,
        error: str,
        detail: dict[str, Any] | None = None,
    ) -> Delivery:
        """Record a failed attempt (ignored once the delivery has succeeded)."""
        update: Document = {
            "$set": {"status": "failed", "error": error, "updated_at": now},
            "$inc": {"attempts": 1},
        }
        if detail is not None:
            update["$set"]["detail"] = detail
        return await self._finish(tenant_id, idempotency_key, update)

    async def mark_skipped(
        self, tenant_id: str, idempotency_key: str, now: datetime, *, reason: str
    ) -> Delivery:
        """Record that the action was not attempted on purpose (`reason`); no attempt is
        counted, and a delivery that already succeeded is left as it is."""
        update: Document = {"$set": {"status": "skipped", "error": reason, "updated_at": now}}
        return await self._finish(tenant_id, idempotency_key, update)

    async def _finish(self, tenant_id: str, key: str, update: Document) -> Delivery:
        doc = await self._deliveries.find_one_and_update(
            {"tenant_id": tenant_id, "idempotency_key": key, "status": {"$ne": "succeeded"}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self._deliveries.find_one({"tenant_id": tenant_id, "idempotency_key": key})
            if doc is None:
                raise NotFoundError("delivery", key)
        return delivery_from_document(doc)

    async def list_for_enrollment(
        self,
        tenant_id: str,
        enrollment_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Delivery]:
        """The enrollment's deliveries, oldest first."""
        return await self._list(
            {"tenant_id": tenant_id, "enrollment_id": enrollment_id}, cursor, limit
        )

    async def list_for_customer(
        self,
        tenant_id: str,
        customer_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Delivery]:
        """The customer's deliveries across journeys, oldest first."""
        return await self._list({"tenant_id": tenant_id, "customer_id": customer_id}, cursor, limit)

    async def _list(self, query: Document, cursor: str | None, limit: int | None) -> Page[Delivery]:
        if cursor is not None:
            query = {"$and": [query, after(_ORDER, decode_cursor(cursor, len(_ORDER)))]}
        size = page_size(limit)
        found = self._deliveries.find(query).sort([(name, 1) for name in _ORDER]).limit(size + 1)
        return await collect(found, _ORDER, size, delivery_from_document)

    async def first_pages_for_enrollments(
        self, tenant_id: str, enrollment_ids: Sequence[str], *, limit: int | None = None
    ) -> dict[str, Page[Delivery]]:
        """Each enrollment's first page of deliveries (oldest first), in one query."""
        return await first_pages(
            self._deliveries,
            {"tenant_id": tenant_id},
            "enrollment_id",
            enrollment_ids,
            _ORDER,
            page_size(limit),
            delivery_from_document,
            max_time_ms=self._max_time_ms,
        )

    async def mark_task_cancelled(self, tenant_id: str, idempotency_key: str, at: datetime) -> None:
        """Note that the channel task behind a succeeded delivery was cancelled (its
        enrollment ended before anyone confirmed it): `detail.cancelled_at`."""
        await self._deliveries.update_one(
            {"tenant_id": tenant_id, "idempotency_key": idempotency_key},
            {"$set": {"detail.cancelled_at": at.isoformat()}},
        )

    # --- result polling (runtime.wecom_results) ----------------------------------------------
    # A task's polling state lives in the delivery's `detail.result_poll`, written only here:
    # {"state": "polling" | "done" | "failed", "polled_at", "next_at" (fixed-width UTC strings,
    # so they order as text and read as JSON), "failures", "error"}. "done" and "failed" are final.

    async def due_for_result_poll(
        self, channel: str, action: str, since: datetime, now: datetime, limit: int
    ) -> list[Delivery]:
        """Every tenant's succeeded `channel`/`action` deliveries with an external id, updated
        at or after `since`, whose results are still awaited and due by `now`: never polled
        first, then the longest overdue; at most `limit`.

        The one query here that spans tenants, on purpose: it is how the background poller
        finds every tenant's work. What the caller does with each delivery stays within
        `delivery.tenant_id`.
        """
        query: Document = {
            "channel": channel,
            "action": action,
            "status": "succeeded",
            "external_id": {"$ne": None},
            "updated_at": {"$gte": since},
            "detail.result_poll.state": {"$nin": list(FINAL_POLL_STATES)},
            "$or": [
                {"detail.result_poll.next_at": {"$exists": False}},
                {"detail.result_poll.next_at": {"$lte": poll_stamp(now)}},
            ],
        }
        found = (
            self._deliveries.find(query)
            .sort([("detail.result_poll.next_at", 1), ("updated_at", 1)])
            .limit(max(1, limit))
        )
        return [delivery_from_document(doc) async for doc in found]

    async def claim_result_poll(
        self, tenant_id: str, idempotency_key: str, *, seen_next_at: str | None, until: datetime
    ) -> bool:
        """Take a due delivery's next poll for the caller: move its `next_at` to `until`, only if
        it is still the `seen_next_at` the caller read (None: never polled) and polling has not
        ended. Of several pollers (one per worker process) that read the same due delivery, one
        gets True and asks; the others skip it. A poller that dies after claiming leaves the
        delivery due again at `until`. Keeps the rest of `detail.result_poll` (its failures)."""
        answer = await self._deliveries.update_one(
            {
                "tenant_id": tenant_id,
                "idempotency_key": idempotency_key,
                "status": "succeeded",
                "detail.result_poll.state": {"$nin": list(FINAL_POLL_STATES)},
                "detail.result_poll.next_at": (
                    {"$exists": False} if seen_next_at is None else seen_next_at
                ),
            },
            {"$set": {"detail.result_poll.next_at": poll_stamp(until)}},
        )
        return answer.modified_count == 1

    async def record_result_poll(
        self,
        tenant_id: str,
        idempotency_key: str,
        *,
        state: PollState,
        at: datetime,
        next_at: datetime | None = None,
        failures: int = 0,
        error: str | None = None,
    ) -> bool:
        """Record how polling a succeeded delivery's results went; False (and nothing written)
        when its polling already ended (`done`/`failed`), so a final state is recorded once."""
        poll: Document = {
            "state": state,
            "polled_at": poll_stamp(at),
            "failures": failures,
            "error": error,
        }
        if next_at is not None:
            poll["next_at"] = poll_stamp(next_at)
        answer = await self._deliveries.update_one(
            {
                "tenant_id": tenant_id,
                "idempotency_key": idempotency_key,
                "status": "succeeded",
                "detail.result_poll.state": {"$nin": list(FINAL_POLL_STATES)},
            },
            {"$set": {"detail.result_poll": poll}},
        )
        return answer.modified_count == 1


PollState = Literal["polling", "done", "failed"]
FINAL_POLL_STATES: tuple[PollState, ...] = ("done", "failed")


def poll_stamp(at: datetime) -> str:
    """`at` as a fixed-width UTC string (`2026-11-23T11:35:17.000000Z`): ordered as text."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
