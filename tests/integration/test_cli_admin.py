"""`omnijourney create-tenant` / `create-api-key` / `list-api-keys` / `revoke-api-key` against a
real MongoDB-wire server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
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


async def test_keys_are_listed_without_secrets_and_revoked_keeping_the_last_admin(
    database: str,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _main_in_thread(["create-tenant", "brand-z", "--name", "Brand Z"]) == 0
    await _main_in_thread(["create-api-key", "brand-z", "--role", "admin", "--name", "setup"])
    admin_raw = capsys.readouterr().out.strip().splitlines()[-1]
    code = await _main_in_thread(
        [
            "create-api-key",
            "brand-z",
            "--role",
            "viewer",
            "--name",
            "board",
            "--expires-at",
            "2999-01-01T00:00:00+08:00",
        ]
    )
    assert code == 0
    viewer_raw = capsys.readouterr().out.strip().splitlines()[-1]
    store = Store(mongo_client[database])
    admin = await store.tenants.authenticate(admin_raw)
    viewer = await store.tenants.authenticate(viewer_raw)
    assert admin is not None and viewer is not None
    assert viewer.expires_at == datetime(2998, 12, 31, 16, tzinfo=UTC)

    assert await _main_in_thread(["list-api-keys", "brand-z"]) == 0
    listing = capsys.readouterr().out
    assert admin.id in listing and viewer.id in listing and "2998-12-31T16:00:00+00:00" in listing
    assert admin_raw not in listing and viewer_raw.split("_", 2)[2] not in listing

    assert await _main_in_thread(["revoke-api-key", "brand-z", viewer.id]) == 0
    assert await store.tenants.authenticate(viewer_raw) is None
    assert await _main_in_thread(["revoke-api-key", "brand-z", admin.id]) == 2
    assert "last usable admin key" in capsys.readouterr().err
    assert await store.tenants.authenticate(admin_raw) is not None
    code = await _main_in_thread(["revoke-api-key", "brand-z", admin.id, "--allow-last-admin"])
    assert code == 0
    assert await store.tenants.authenticate(admin_raw) is None
    assert await _main_in_thread(["revoke-api-key", "brand-z", "key_nope"]) == 2
    assert await _main_in_thread(["revoke-api-key", "nobody", admin.id]) == 2
    await mongo_client.drop_database(database)


async def test_an_expiry_in_the_past_or_without_a_time_zone_is_refused(
    database: str,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _main_in_thread(["create-tenant", "brand-w", "--name", "Brand W"]) == 0
    base = ["create-api-key", "brand-w", "--role", "viewer", "--name", "k", "--expires-at"]
    assert await _main_in_thread([*base, "2000-01-01T00:00:00Z"]) == 2
    assert "expires_at must be after" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        await _main_in_thread([*base, "2999-01-01T00:00:00"])
    assert "time zone" in capsys.readouterr().err
    assert await Store(mongo_client[database]).tenants.list_api_keys("brand-w") == []
    await mongo_client.drop_database(database)


async def _main_in_thread(argv: list[str]) -> int:
    # `main` runs its own event loop (asyncio.run), so it cannot run on the test's loop.
    return await asyncio.to_thread(main, argv)
