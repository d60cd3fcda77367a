"""Tenants and API keys: secrets stored only as hashes, revocation, lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from domain.errors import ConflictError, NotFoundError
from domain.tenants import Tenant, hash_api_key
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


async def test_a_tenant_is_created_once(store: Store) -> None:
    tenant = Tenant(id="acme", name="ACME Coffee", created_at=T0)
    await store.tenants.create(tenant)

    with pytest.raises(ConflictError):
        await store.tenants.create(tenant)
    assert await store.tenants.get("acme") == tenant
    assert (await store.tenants.get("acme")).timezone == "Asia/Shanghai"
    with pytest.raises(NotFoundError):
        await store.tenants.get("nobody")


async def test_a_new_key_authenticates_and_only_its_hash_is_stored(
    store: Store, mongo_db: AsyncDatabase[dict[str, Any]]
) -> None:
    key, raw = await store.tenants.create_api_key("acme", "ci", "operator", T0)

    assert raw.startswith(f"oj_{key.prefix}_")
    assert await store.tenants.authenticate(raw) == key
    stored = await mongo_db["api_keys"].find_one({"_id": key.id})
    assert stored is not None
    assert stored["key_hash"] == hash_api_key(raw)
    assert raw not in str(stored)
    assert raw.split("_", 2)[2] not in str(stored)


async def test_unknown_or_malformed_keys_do_not_authenticate(store: Store) -> None:
    _, raw = await store.tenants.create_api_key("acme", "ci", "viewer", T0)

    assert await store.tenants.authenticate(raw + "x") is None
    assert await store.tenants.authenticate("Bearer nonsense") is None
    assert await store.tenants.authenticate("") is None


async def test_a_revoked_key_no_longer_authenticates(store: Store) -> None:
    key, raw = await store.tenants.create_api_key("acme", "ci", "admin", T0)

    revoked = await store.tenants.revoke_api_key("acme", key.id, T0 + timedelta(days=1))
    again = await store.tenants.revoke_api_key("acme", key.id, T0 + timedelta(days=2))

    assert revoked.revoked_at == T0 + timedelta(days=1)
    assert again.revoked_at == revoked.revoked_at
    assert await store.tenants.authenticate(raw) is None
    assert [k.id for k in await store.tenants.list_api_keys("acme")] == [key.id]


async def test_a_key_cannot_be_revoked_through_another_tenant(store: Store) -> None:
    key, raw = await store.tenants.create_api_key("acme", "ci", "admin", T0)

    with pytest.raises(NotFoundError):
        await store.tenants.revoke_api_key("other", key.id, T0)
    assert await store.tenants.authenticate(raw) == key
    assert await store.tenants.list_api_keys("other") == []
