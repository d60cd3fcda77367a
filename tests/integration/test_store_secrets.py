"""Secrets at rest: sealed in every document, re-sealed at start-up, bound to their tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from domain.channels import WeComCredentials
from store.database import Store
from store.mongo import CHANNEL_CREDENTIALS, WEBHOOK_SECRETS
from store.secretbox import SecretBox, SecretError, SecretUnreadable, UnknownSecretKey

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(50, 82))
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_SECRET = "app-secret-value-7f3a"
CALLBACK_TOKEN = "callback-token-value-91c2"
WECOM_SECRETS = (APP_SECRET, CALLBACK_TOKEN, AES_KEY)
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def credentials(tenant: str = "acme") -> WeComCredentials:
    return WeComCredentials(
        tenant_id=tenant,
        corp_id=f"ww-{tenant}",
        secret=SecretStr(APP_SECRET),
        callback_token=SecretStr(CALLBACK_TOKEN),
        encoding_aes_key=SecretStr(AES_KEY),
        callback_id=f"cb-{tenant}-0123456789abcdef",
    )


async def raw_dump(db: AsyncDatabase[dict[str, Any]], name: str) -> bytes:
    """Every document of the collection as BSON, read with PyMongo (no repository)."""
    return b"".join([bson.encode(doc) async for doc in db[name].find()])


def store_with(db: AsyncDatabase[dict[str, Any]], keys: dict[str, bytes], primary: str) -> Store:
    return Store(db, SecretBox(keys, primary))


async def test_a_database_dump_holds_none_of_the_wecom_secrets(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = store_with(mongo_db, {"k1": KEY_1}, "k1")
    await store.ensure_indexes()
    await store.wecom_credentials.put(credentials())

    dump = await raw_dump(mongo_db, CHANNEL_CREDENTIALS)

    assert b"ww-acme" in dump  # the dump is real: non-secret fields are there
    for secret in WECOM_SECRETS:
        assert secret.encode() not in dump
    [doc] = await mongo_db[CHANNEL_CREDENTIALS].find().to_list()
    assert {doc[name]["kid"] for name in ("secret", "callback_token", "encoding_aes_key")} == {"k1"}
    assert await store.wecom_credentials.get("acme") == credentials()
    assert await store.wecom_credentials.by_callback_id(credentials().callback_id) == credentials()


async def test_start_up_seals_plain_text_written_by_the_old_format(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    # A document as the release before sealing wrote it.
    legacy = credentials().model_dump()
    legacy.update(
        _id="acme",
        channel="wecom",
        secret=APP_SECRET,
        callback_token=CALLBACK_TOKEN,
        encoding_aes_key=AES_KEY,
    )
    await mongo_db[CHANNEL_CREDENTIALS].insert_one(legacy)
    store = store_with(mongo_db, {"k1": KEY_1}, "k1")
    assert await store.wecom_credentials.get("acme") == credentials()  # still reads

    assert await store.reseal_secrets() == 3

    dump = await raw_dump(mongo_db, CHANNEL_CREDENTIALS)
    for secret in WECOM_SECRETS:
        assert secret.encode() not in dump
    assert await store.wecom_credentials.get("acme") == credentials()
    assert await store.reseal_secrets() == 0  # idempotent


async def test_rotating_the_master_key_reseals_every_value_under_the_new_primary(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    old = store_with(mongo_db, {"k1": KEY_1}, "k1")
    await old.wecom_credentials.put(credentials("acme"))
    await old.wecom_credentials.put(credentials("globex"))

    rotated = store_with(mongo_db, {"k1": KEY_1, "k2": KEY_2}, "k2")
    assert await rotated.wecom_credentials.get("acme") == credentials("acme")  # old key opens
    assert await rotated.reseal_secrets() == 6

    kids = {
        doc[name]["kid"]
        async for doc in mongo_db[CHANNEL_CREDENTIALS].find()
        for name in ("secret", "callback_token", "encoding_aes_key")
    }
    assert kids == {"k2"}
    new_only = store_with(mongo_db, {"k2": KEY_2}, "k2")  # k1 can now be retired
    assert await new_only.wecom_credentials.get("globex") == credentials("globex")


async def test_a_missing_key_is_named_and_start_up_reports_it_after_sealing_the_rest(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    await store_with(mongo_db, {"k-lost": KEY_1}, "k-lost").wecom_credentials.put(credentials())
    plain = credentials("globex").model_dump()
    plain.update(_id="globex", channel="wecom", secret=APP_SECRET)
    plain.update(callback_token=CALLBACK_TOKEN, encoding_aes_key=AES_KEY)
    await mongo_db[CHANNEL_CREDENTIALS].insert_one(plain)
    store = store_with(mongo_db, {"k2": KEY_2}, "k2")

    with pytest.raises(UnknownSecretKey) as caught:
        await store.wecom_credentials.get("acme")
    assert caught.value.key_id == "k-lost"
    with pytest.raises(SecretError, match=r"\['k-lost'\]") as failed:
        await store.reseal_secrets()
    assert "ct" not in str(failed.value) and APP_SECRET not in str(failed.value)

    assert await store.wecom_credentials.get("globex") == credentials("globex")
    globex = await mongo_db[CHANNEL_CREDENTIALS].find_one({"_id": "globex"})
    assert globex is not None and globex["secret"]["kid"] == "k2"


async def test_a_secret_copied_into_another_tenants_document_does_not_open(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = store_with(mongo_db, {"k1": KEY_1}, "k1")
    await store.ensure_indexes()
    await store.wecom_credentials.put(credentials("acme"))
    await store.wecom_credentials.put(
        credentials("globex").model_copy(update={"secret": SecretStr("globex-own-secret")})
    )
    acme = await mongo_db[CHANNEL_CREDENTIALS].find_one({"_id": "acme"})
    assert acme is not None

    await mongo_db[CHANNEL_CREDENTIALS].update_one(
        {"_id": "globex"}, {"$set": {"secret": acme["secret"]}}
    )

    with pytest.raises(SecretUnreadable, match="tenant 'globex'"):
        await store.wecom_credentials.get("globex")


async def test_a_store_without_a_key_box_refuses_secrets(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    with pytest.raises(RuntimeError, match="SecretBox"):
        await Store(mongo_db).wecom_credentials.put(credentials())


async def test_webhook_secrets_are_sealed_and_reseal_under_a_new_master_key(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    old = store_with(mongo_db, {"k1": KEY_1}, "k1")
    await old.ensure_indexes()
    first, _ = await old.webhook_secrets.rotate("acme", T0, timedelta(hours=24))
    second, _ = await old.webhook_secrets.rotate("acme", T0, timedelta(hours=24))

    dump = await raw_dump(mongo_db, WEBHOOK_SECRETS)
    assert b"acme" in dump
    for secret in (first, second):
        assert secret.get_secret_value().encode() not in dump

    rotated = store_with(mongo_db, {"k1": KEY_1, "k2": KEY_2}, "k2")
    assert await rotated.reseal_secrets() == 2
    [doc] = await mongo_db[WEBHOOK_SECRETS].find().to_list()
    assert (doc["secret"]["kid"], doc["previous_secret"]["kid"]) == ("k2", "k2")
    found = await store_with(mongo_db, {"k2": KEY_2}, "k2").webhook_secrets.signing_secrets(
        "acme", T0
    )
    assert found.valid_at(T0) == [second, first]
