"""Hooks (channel codes and group live codes): `_id` is the hook id, `(tenant_id, state)` unique.

`by_state` is how a contact-added or group-joined callback is attributed to its hook; archived
hooks still answer it so customers a deleted code brought in keep their attribution.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.errors import ConflictError, NotFoundError
from domain.hooks import Hook
from store.mongo import HOOKS, Document, collection, id_to_field
from store.pagination import Page, after, collect, decode_cursor, page_size

_ORDER = ["_id"]


def hook_from_document(doc: Document) -> Hook:
    """The model of a stored document."""
    return Hook.model_validate(id_to_field(doc))


def hook_document(hook: Hook) -> Document:
    """The stored form of a hook."""
    doc = hook.model_dump(exclude={"id"})
    doc["_id"] = hook.id
    return doc


class HookRepository:
    """The `hooks` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._hooks = collection(db, HOOKS)

    async def insert(self, hook: Hook) -> Hook:
        """Store a new hook; `ConflictError` when its id or state is taken in the tenant."""
        try:
            await self._hooks.insert_one(hook_document(hook))
        except DuplicateKeyError as exc:
            raise ConflictError(
                f"a hook with id {hook.id!r} or state {hook.state!r} exists"
            ) from exc
        return hook

    async def get(self, tenant_id: str, hook_id: str) -> Hook:
        """The hook; `NotFoundError` when the tenant has none with this id."""
        doc = await self._hooks.find_one({"_id": hook_id, "tenant_id": tenant_id})
        if doc is None:
            raise NotFoundError("hook", hook_id)
        return hook_from_document(doc)

    async def by_state(self, tenant_id: str, state: str) -> Hook | None:
        """The hook whose code carries this `state` (archived ones included), or None."""
        doc = await self._hooks.find_one({"tenant_id": tenant_id, "state": state})
        return None if doc is None else hook_from_document(doc)

    async def update(
        self, tenant_id: str, hook_id: str, changes: dict[str, Any], now: datetime
    ) -> Hook:
        """Set `changes` (model field names) and `updated_at`; `NotFoundError` when absent."""
        forbidden = {"id", "tenant_id", "state", "kind", "created_at"} & set(changes)
        if forbidden:
            raise ValueError(f"hook fields {sorted(forbidden)} cannot change")
        doc = await self._hooks.find_one_and_update(
            {"_id": hook_id, "tenant_id": tenant_id},
            {"$set": {**changes, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFoundError("hook", hook_id)
        return hook_from_document(doc)

    async def list(
        self,
        tenant_id: str,
        *,
        include_archived: bool = False,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Hook]:
        """The tenant's hooks in creation order."""
        query: Document = {"tenant_id": tenant_id}
        if not include_archived:
            query["archived"] = False
        if cursor is not None:
            query = {"$and": [query, after(_ORDER, decode_cursor(cursor, len(_ORDER)))]}
        size = page_size(limit)
        found = self._hooks.find(query).sort([(name, 1) for name in _ORDER]).limit(size + 1)
        return await collect(found, _ORDER, size, hook_from_document)
