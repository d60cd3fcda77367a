"""Deliveries: one per `(tenant_id, idempotency_key)`, enforced by a unique index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.deliveries import Delivery
from domain.errors import NotFound
from store.mongo import DELIVERIES, Document, collection, without_object_id
from store.pagination import Page, after, collect, decode_cursor, first_pages, page_size

_ORDER = ["created_at", "_id"]


def delivery_from_document(doc: Document) -> Delivery:
    """The model of a stored document."""
    return Delivery.model_validate(without_object_id(doc))


class DeliveryRepository:
    """The `deliveries` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._deliveries = collection(db, DELIVERIES)

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

    async def _finish(self, tenant_id: str, key: str, update: Document) -> Delivery:
        doc = await self._deliveries.find_one_and_update(
            {"tenant_id": tenant_id, "idempotency_key": key, "status": {"$ne": "succeeded"}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self._deliveries.find_one({"tenant_id": tenant_id, "idempotency_key": key})
            if doc is None:
                raise NotFound("delivery", key)
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
        )

    async def succeeded_with_external_id_since(
        self, channel: str, action: str, since: datetime
    ) -> AsyncIterator[Delivery]:
        """Every tenant's succeeded `channel`/`action` deliveries that carry an external id
        (e.g. a WeCom task's msgid) and were updated at or after `since`, oldest first.

        The one query here that spans tenants, on purpose: it is how a background poller finds
        the work of every tenant (index `by_channel_action_status_time`). What the caller does
        with each delivery stays within `delivery.tenant_id`.
        """
        query: Document = {
            "channel": channel,
            "action": action,
            "status": "succeeded",
            "external_id": {"$ne": None},
            "updated_at": {"$gte": since},
        }
        async for doc in self._deliveries.find(query).sort("updated_at", 1):
            yield delivery_from_document(doc)
