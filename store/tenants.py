"""Tenants and their API keys.

Keys are stored by the SHA-256 hash of the whole raw key (`domain.tenants.hash_api_key`);
`authenticate` is the one lookup that cannot filter on a tenant, since finding the tenant is its
purpose — the hash, unique across tenants, stands in for it. `touch` records a key's use at most
once per `domain.tenants.LAST_USED_GRANULARITY` (the write is conditional on the stored time being
that old, so API replicas racing on one key still write about once a minute).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.errors import Conflict, NotFound
from domain.tenants import (
    LAST_USED_GRANULARITY,
    ApiKey,
    ApiKeyRole,
    Tenant,
    generate_api_key,
    hash_api_key,
    key_prefix,
)
from store.ids import new_id
from store.mongo import API_KEYS, TENANTS, Document, collection, id_to_field


def _tenant(doc: Document) -> Tenant:
    data = id_to_field(doc)
    data.pop("tenant_id", None)
    return Tenant.model_validate(data)


def _api_key(doc: Document) -> ApiKey:
    data = id_to_field(doc)
    data.pop("key_hash", None)
    return ApiKey.model_validate(data)


class TenantRepository:
    """Tenants (`tenants`, `_id` = tenant id) and API keys (`api_keys`)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._tenants = collection(db, TENANTS)
        self._keys = collection(db, API_KEYS)

    async def create(self, tenant: Tenant) -> Tenant:
        """Store a new tenant; `Conflict` when its id is taken."""
        doc = tenant.model_dump(exclude={"id"})
        doc["_id"] = tenant.id
        doc["tenant_id"] = tenant.id
        try:
            await self._tenants.insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(f"tenant {tenant.id!r} already exists") from exc
        return tenant

    async def get(self, tenant_id: str) -> Tenant:
        """The tenant; `NotFound` when there is none."""
        doc = await self._tenants.find_one({"_id": tenant_id, "tenant_id": tenant_id})
        if doc is None:
            raise NotFound("tenant", tenant_id)
        return _tenant(doc)

    async def find(self, tenant_id: str) -> Tenant | None:
        """The tenant, or None."""
        doc = await self._tenants.find_one({"_id": tenant_id, "tenant_id": tenant_id})
        return None if doc is None else _tenant(doc)

    async def create_api_key(
        self,
        tenant_id: str,
        name: str,
        role: ApiKeyRole,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key for the tenant and its raw form, which is never shown again.

        `expires_at` (after `now`, else a pydantic `ValidationError`): when it stops working.
        """
        prefix, raw_key = generate_api_key()
        key = ApiKey(
            id=new_id("key"),
            tenant_id=tenant_id,
            name=name,
            role=role,
            prefix=prefix,
            created_at=now,
            expires_at=expires_at,
        )
        doc = key.model_dump(exclude={"id"})
        doc["_id"] = key.id
        doc["key_hash"] = hash_api_key(raw_key)
        await self._keys.insert_one(doc)
        return key, raw_key

    async def authenticate(self, raw_key: str, now: datetime | None = None) -> ApiKey | None:
        """The usable key whose raw form this is, or None (malformed, unknown, revoked, or expired
        at `now`, default the current time)."""
        if key_prefix(raw_key) is None:
            return None
        doc = await self._keys.find_one({"key_hash": hash_api_key(raw_key), "revoked_at": None})
        if doc is None:
            return None
        key = _api_key(doc)
        return key if key.usable_at(now or datetime.now(UTC)) else None

    async def is_usable(self, tenant_id: str, key_id: str, now: datetime) -> bool:
        """Whether the key still authenticates (not revoked, not expired): one `_id` lookup."""
        doc = await self._keys.find_one(
            {"_id": key_id, "tenant_id": tenant_id, "revoked_at": None},
            projection={"expires_at": 1},
        )
        if doc is None:
            return False
        expires_at = doc.get("expires_at")
        return expires_at is None or expires_at > now

    async def touch(self, key: ApiKey, now: datetime) -> None:
        """Record that `key` was used at `now`, unless its stored use is recent enough."""
        if not key.last_used_is_stale(now):
            return
        await self._keys.update_one(
            {
                "_id": key.id,
                "tenant_id": key.tenant_id,
                "$or": [
                    {"last_used_at": None},
                    {"last_used_at": {"$lte": now - LAST_USED_GRANULARITY}},
                ],
            },
            {"$set": {"last_used_at": now}},
        )

    async def revoke_api_key(
        self, tenant_id: str, key_id: str, now: datetime, *, keep_last_admin: bool = False
    ) -> ApiKey:
        """Revoke a key (idempotent: an already revoked key keeps its first revocation time).

        `NotFound` for a key of another tenant. With `keep_last_admin`, `Conflict` when this is
        the tenant's last usable admin key, so a tenant cannot lock itself out by accident
        (two concurrent revocations of its last two admin keys can still both pass).
        """
        if keep_last_admin:
            await self._check_not_last_admin(tenant_id, key_id, now)
        doc = await self._keys.find_one_and_update(
            {"_id": key_id, "tenant_id": tenant_id, "revoked_at": None},
            {"$set": {"revoked_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self._keys.find_one({"_id": key_id, "tenant_id": tenant_id})
            if doc is None:
                raise NotFound("api key", key_id)
        return _api_key(doc)

    async def _check_not_last_admin(self, tenant_id: str, key_id: str, now: datetime) -> None:
        doc = await self._keys.find_one({"_id": key_id, "tenant_id": tenant_id})
        if doc is None:
            raise NotFound("api key", key_id)
        key = _api_key(doc)
        if key.role != "admin" or not key.usable_at(now):
            return
        others = await self._keys.count_documents(
            {
                "tenant_id": tenant_id,
                "role": "admin",
                "revoked_at": None,
                "_id": {"$ne": key_id},
                "$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}],
            },
            limit=1,
        )
        if others == 0:
            raise Conflict(
                f"api key {key_id!r} is the tenant's last usable admin key; create another "
                "admin key before revoking it"
            )

    async def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        """The tenant's keys, revoked ones included, oldest first."""
        cursor = self._keys.find({"tenant_id": tenant_id}).sort("_id", 1)
        return [_api_key(doc) async for doc in cursor]
