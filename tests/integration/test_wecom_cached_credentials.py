"""`CachedCredentials` over the real credentials repository: read once per ttl, never keeping a
tenant that has not connected WeCom."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from connectors.wecom.client import CachedCredentials
from domain.channels import WeComCredentials, new_callback_id
from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(mongo_db: AsyncDatabase[dict[str, Any]]) -> Store:
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    return store


def credentials(corp_id: str, callback_id: str) -> WeComCredentials:
    return WeComCredentials(
        tenant_id="t1",
        corp_id=corp_id,
        secret=SecretStr("app-secret"),
        callback_token=SecretStr("token"),
        encoding_aes_key=SecretStr(AES_KEY),
        callback_id=callback_id,
    )


async def test_changed_credentials_are_read_once_the_ttl_has_passed(store: Store) -> None:
    clock = Clock()
    cached = CachedCredentials(store.wecom_credentials, ttl=5.0, clock=clock)
    callback_id = new_callback_id()
    await store.wecom_credentials.put(credentials("ww-old", callback_id))
    first = await cached.get("t1")

    await store.wecom_credentials.put(credentials("ww-new", callback_id))
    clock.now += 4.0
    within = await cached.get("t1")
    clock.now += 1.0
    after = await cached.get("t1")

    assert first is not None and within is not None and after is not None
    assert (first.corp_id, within.corp_id, after.corp_id) == ("ww-old", "ww-old", "ww-new")


async def test_forgetting_a_tenant_reads_its_credentials_afresh(store: Store) -> None:
    cached = CachedCredentials(store.wecom_credentials, ttl=60.0, clock=Clock())
    callback_id = new_callback_id()
    await store.wecom_credentials.put(credentials("ww-old", callback_id))
    await cached.get("t1")
    await store.wecom_credentials.put(credentials("ww-new", callback_id))

    cached.forget("t1")

    found = await cached.get("t1")
    assert found is not None and found.corp_id == "ww-new"


async def test_a_tenant_that_connects_wecom_is_seen_at_once(store: Store) -> None:
    cached = CachedCredentials(store.wecom_credentials, ttl=60.0, clock=Clock())
    assert await cached.get("t1") is None

    await store.wecom_credentials.put(credentials("ww-1", new_callback_id()))

    found = await cached.get("t1")
    assert found is not None and found.corp_id == "ww-1"
