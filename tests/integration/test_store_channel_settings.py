"""Channel settings: one sealed model per (tenant, kind), found by its public lookup key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import bson
import pytest
from pydantic import BaseModel, ConfigDict, SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from domain.errors import ConflictError
from store.database import Store
from store.mongo import CHANNEL_SETTINGS
from store.secretbox import SecretBox, SecretUnreadableError

T0 = datetime(2026, 12, 1, tzinfo=UTC)
KEY_1 = bytes(range(32))
KEY_2 = bytes(range(50, 82))


class ProviderSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str
    sign_name: str
    app_secret: SecretStr
    signing_token: SecretStr | None = None


def settings(
    app_id: str = "wx-acme",
    token: str | None = "tok-5521",  # noqa: S107
) -> ProviderSettings:
    return ProviderSettings(
        app_id=app_id,
        sign_name="Acme",
        app_secret=SecretStr("secret-9931-acme"),
        signing_token=None if token is None else SecretStr(token),
    )


async def test_settings_round_trip_with_secrets_sealed(
    store: Store, mongo_db: AsyncDatabase[dict[str, Any]]
) -> None:
    await store.channel_settings.put("acme", "oa", settings(), T0, lookup="wx-acme")

    back = await store.channel_settings.get("acme", "oa", ProviderSettings)

    assert back == settings()
    dump = b"".join([bson.encode(doc) async for doc in mongo_db[CHANNEL_SETTINGS].find()])
    assert b"wx-acme" in dump and b"Acme" in dump
    assert b"secret-9931-acme" not in dump and b"tok-5521" not in dump
    assert "secret-9931-acme" not in repr(back)


async def test_an_optional_secret_left_out_stays_out(store: Store) -> None:
    await store.channel_settings.put("acme", "oa", settings(token=None), T0)

    back = await store.channel_settings.get("acme", "oa", ProviderSettings)

    assert back is not None and back.signing_token is None


async def test_kinds_and_tenants_are_apart(store: Store) -> None:
    await store.channel_settings.put("acme", "oa", settings(), T0, lookup="wx-acme")

    assert await store.channel_settings.get("acme", "sms", ProviderSettings) is None
    assert await store.channel_settings.get("globex", "oa", ProviderSettings) is None
    assert await store.channel_settings.by_lookup("sms", "wx-acme", ProviderSettings) is None
    found = await store.channel_settings.by_lookup("oa", "wx-acme", ProviderSettings)
    assert found == ("acme", settings())


async def test_a_lookup_key_belongs_to_one_tenant(store: Store) -> None:
    await store.channel_settings.put("acme", "oa", settings(), T0, lookup="wx-shared")
    await store.channel_settings.put("globex", "oa", settings("wx-g"), T0)  # no lookup: fine

    with pytest.raises(ConflictError):
        await store.channel_settings.put("globex", "oa", settings("wx-g"), T0, lookup="wx-shared")
    assert await store.channel_settings.delete("acme", "oa") is True
    await store.channel_settings.put("globex", "oa", settings("wx-g"), T0, lookup="wx-shared")
    assert await store.channel_settings.delete("acme", "oa") is False


async def test_a_sealed_value_cannot_be_moved_to_another_tenant(
    store: Store, mongo_db: AsyncDatabase[dict[str, Any]]
) -> None:
    await store.channel_settings.put("acme", "oa", settings(), T0)
    await store.channel_settings.put("globex", "oa", settings("wx-g", token="other"), T0)
    acme = await mongo_db[CHANNEL_SETTINGS].find_one({"tenant_id": "acme"})
    assert acme is not None
    await mongo_db[CHANNEL_SETTINGS].update_one(
        {"tenant_id": "globex"}, {"$set": {"sealed": acme["sealed"]}}
    )

    with pytest.raises(SecretUnreadableError):
        await store.channel_settings.get("globex", "oa", ProviderSettings)


async def test_start_up_reseals_under_the_new_primary_key(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    old = Store(mongo_db, SecretBox({"k1": KEY_1}, "k1"))
    await old.ensure_indexes()
    await old.channel_settings.put("acme", "sms", settings(), T0)
    new = Store(mongo_db, SecretBox({"k1": KEY_1, "k2": KEY_2}, "k2"))

    assert await new.reseal_secrets() == 1

    doc = await mongo_db[CHANNEL_SETTINGS].find_one({"tenant_id": "acme"})
    assert doc is not None and doc["sealed"]["kid"] == "k2"
    assert await new.channel_settings.get("acme", "sms", ProviderSettings) == settings()
