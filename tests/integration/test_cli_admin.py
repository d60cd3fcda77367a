"""`omnijourney create-tenant` / `create-api-key` against a real MongoDB-wire server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from runtime.cli import main
from store.database import Store


@pytest.fixture
def database(mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"cli_{uuid.uuid4().hex}"
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("MONGODB_DATABASE", name)
    return name


async def test_a_tenant_and_its_key_are_created_and_the_key_authenticates(
    database: str,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _main_in_thread(["create-tenant", "brand-x", "--name", "Brand X"]) == 0
    code = await _main_in_thread(
        ["create-api-key", "brand-x", "--role", "operator", "--name", "ops console"]
    )
    assert code == 0
    raw = capsys.readouterr().out.strip().splitlines()[-1]

    store = Store(mongo_client[database])
    principal = await store.tenants.authenticate(raw)
    assert principal is not None
    assert (principal.tenant_id, principal.role) == ("brand-x", "operator")
    await mongo_client.drop_database(database)


async def test_a_taken_tenant_id_and_an_unknown_tenant_are_refused_clearly(
    database: str,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _main_in_thread(["create-tenant", "brand-y", "--name", "Brand Y"]) == 0
    assert await _main_in_thread(["create-tenant", "brand-y", "--name", "Again"]) == 2
    assert await _main_in_thread(["create-tenant", "bad id!", "--name", "Bad"]) == 2
    code = await _main_in_thread(["create-api-key", "nobody", "--role", "viewer", "--name", "k"])
    assert code == 2
    err = capsys.readouterr().err
    assert "brand-y" in err and "no tenant 'nobody'" in err
    await mongo_client.drop_database(database)


async def _main_in_thread(argv: list[str]) -> int:
    # `main` runs its own event loop (asyncio.run), so it cannot run on the test's loop.
    return await asyncio.to_thread(main, argv)
