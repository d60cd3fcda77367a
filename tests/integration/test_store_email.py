"""The e-mail records in `channel_settings`: settings sealed, and the unsubscribe key made once
however many first uses race (a token signed with a key that was then replaced would orphan)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import SecretStr

from domain.email import EmailSettings
from store.database import Store

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def test_concurrent_first_uses_of_the_unsubscribe_key_all_get_the_one_stored(
    store: Store,
) -> None:
    assert await store.email.existing_key("t1") is None
    keys = await asyncio.gather(*(store.email.unsubscribe_key("t1", NOW) for _ in range(8)))
    stored = await store.email.existing_key("t1")
    assert stored is not None
    assert {key.get_secret_value() for key in keys} == {stored.get_secret_value()}
    other = await store.email.unsubscribe_key("t2", NOW)
    assert other.get_secret_value() != stored.get_secret_value()


async def test_add_leaves_existing_settings_alone(store: Store) -> None:
    settings = EmailSettings(
        host="smtp.brand.example",
        port=587,
        username="u",
        password=SecretStr("first"),
        from_address="n@brand.example",
    )
    assert await store.channel_settings.add("t1", "email", settings, NOW) is True
    changed = settings.model_copy(update={"password": SecretStr("second")})
    assert await store.channel_settings.add("t1", "email", changed, NOW) is False
    found = await store.email.get("t1")
    assert found is not None and found.password is not None
    assert found.password.get_secret_value() == "first"
    raw = await store.db.channel_settings.find_one({"_id": "t1:email"})
    assert raw is not None and "first" not in str(raw)
    assert await store.email.delete("t1") is True
    assert await store.email.get("t1") is None
