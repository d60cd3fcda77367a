"""`omnijourney rotate-webhook-secret` against a real MongoDB-wire server."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import bson
import pytest
from pymongo import AsyncMongoClient

from runtime.cli import main
from store.database import Store
from store.mongo import WEBHOOK_SECRETS
from store.secretbox import SecretBox, encode_key

KEY = bytes(range(7, 39))


@pytest.fixture
def database(mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"cli_{uuid.uuid4().hex}"
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("MONGODB_DATABASE", name)
    monkeypatch.setenv("SECRETS_KEYS", json.dumps({"ops-1": encode_key(KEY)}))
    return name


async def test_the_new_secret_is_printed_once_stored_sealed_and_signs(
    database: str,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _main_in_thread(["create-tenant", "brand-w", "--name", "Brand W"]) == 0
    argv = ["rotate-webhook-secret", "--tenant", "brand-w", "--overlap-hours", "0"]
    assert await _main_in_thread(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    secret = out[-1]

    assert secret.startswith("whsec_") and "shown only now" in out[-2]
    db = mongo_client[database]
    dump = b"".join([bson.encode(doc) async for doc in db[WEBHOOK_SECRETS].find()])
    assert b"brand-w" in dump and secret.encode() not in dump
    store = Store(db, SecretBox({"ops-1": KEY}, "ops-1"))
    held = await store.webhook_secrets.signing_secrets("brand-w", datetime.now(UTC))
    assert [s.get_secret_value() for s in held.valid_at(datetime.now(UTC))] == [secret]

    assert await _main_in_thread(["rotate-webhook-secret", "--tenant", "brand-w"]) == 0
    again = capsys.readouterr().out
    assert secret not in again and "also signs until" in again
    await mongo_client.drop_database(database)


async def test_an_unknown_tenant_a_bad_overlap_and_missing_keys_are_refused_clearly(
    database: str,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await _main_in_thread(["rotate-webhook-secret", "--tenant", "nobody"]) == 2
    assert await _main_in_thread(["create-tenant", "brand-v", "--name", "Brand V"]) == 0
    bad = ["rotate-webhook-secret", "--tenant", "brand-v", "--overlap-hours", "200"]
    assert await _main_in_thread(bad) == 2
    monkeypatch.delenv("SECRETS_KEYS")
    assert await _main_in_thread(["rotate-webhook-secret", "--tenant", "brand-v"]) == 2

    captured = capsys.readouterr()
    assert "no tenant 'nobody'" in captured.err
    assert "--overlap-hours: must be between 0 and 168 hours" in captured.err
    assert "SECRETS_KEYS is required with MONGODB_URI" in captured.err
    assert "whsec_" not in captured.out
    assert await mongo_client[database][WEBHOOK_SECRETS].count_documents({}) == 0
    await mongo_client.drop_database(database)


async def _main_in_thread(argv: list[str]) -> int:
    # `main` runs its own event loop (asyncio.run), so it cannot run on the test's loop.
    return await asyncio.to_thread(main, argv)


async def test_the_api_on_a_configured_mongodb_refuses_to_start_without_secrets_keys(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRETS_KEYS")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # never reached: keys come first

    assert await _main_in_thread(["api"]) == 2

    err = capsys.readouterr().err
    assert "SECRETS_KEYS is required with MONGODB_URI" in err and "Traceback" not in err
