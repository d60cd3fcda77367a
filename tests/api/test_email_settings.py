"""The tenant's SMTP settings through GraphQL: admins only, the password write-only and sealed,
internal hosts refused unless the deployment allows them (EMAIL_ALLOWED_NETWORKS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.netguard import DestinationGuard
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.support import TenantKeys, gql

FIELDS = "host port security username passwordSet fromAddress fromName unsubscribeMailto"
CONFIGURE = f"""
mutation($input: ConfigureEmailInput!) {{
  configureEmail(input: $input) {{
    __typename
    ... on EmailSettings {{ {FIELDS} }}
    ... on InvalidInput {{ errors {{ path message }} }}
    ... on Forbidden {{ message }}
  }}
}}
"""
READ = f"query {{ emailSettings {{ {FIELDS} }} }}"
CLEAR = """
mutation { clearEmailSettings { __typename ... on EmailSettingsCleared { cleared } } }
"""
SETTINGS = {
    "host": "smtp.mailer.example",
    "port": 587,
    "security": "STARTTLS",
    "username": "brand",
    "password": "s3cret-relay-password",
    "fromAddress": "news@brand.example",
    "fromName": "Brand News",
}


def _client(
    store: Store, env: WorkflowEnvironment, registry: ConnectorRegistry, guard: DestinationGuard
) -> httpx.AsyncClient:
    app = create_app(store, env.client, registry, email_hosts=guard)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


@pytest.fixture
async def api(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(store, temporal_env, registry, DestinationGuard()) as client:
        yield client


async def _configure(
    api: httpx.AsyncClient, tenant: TenantKeys, role: str = "admin", **changes: Any
) -> dict[str, Any]:
    data = await gql(api, tenant, CONFIGURE, {"input": {**SETTINGS, **changes}}, role=role)
    result: dict[str, Any] = data["configureEmail"]
    return result


async def test_an_admin_sets_reads_and_clears_the_settings_without_the_password_showing(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    stored = await _configure(api, tenant)
    assert stored == {
        "__typename": "EmailSettings",
        "host": "smtp.mailer.example",
        "port": 587,
        "security": "STARTTLS",
        "username": "brand",
        "passwordSet": True,
        "fromAddress": "news@brand.example",
        "fromName": "Brand News",
        "unsubscribeMailto": None,
    }
    read = await gql(api, tenant, READ)
    assert read["emailSettings"] == {k: v for k, v in stored.items() if k != "__typename"}
    raw = await store.db.channel_settings.find_one({"tenant_id": tenant.tenant_id, "kind": "email"})
    assert raw is not None and "s3cret-relay-password" not in str(raw)
    settings = await store.email.get(tenant.tenant_id)
    assert settings is not None and settings.password is not None
    assert settings.password.get_secret_value() == "s3cret-relay-password"

    cleared = await gql(api, tenant, CLEAR)
    assert cleared["clearEmailSettings"] == {"__typename": "EmailSettingsCleared", "cleared": True}
    assert (await gql(api, tenant, READ))["emailSettings"] is None
    again = await gql(api, tenant, CLEAR)
    assert again["clearEmailSettings"]["cleared"] is False


async def test_other_roles_neither_read_nor_write_the_settings(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    await _configure(api, tenant)
    for role in ("designer", "operator", "viewer"):
        assert (await _configure(api, tenant, role, host="smtp.other.example"))[
            "__typename"
        ] == "Forbidden"
        assert (await gql(api, tenant, READ, role=role))["emailSettings"] is None
        cleared = await gql(api, tenant, CLEAR, role=role)
        assert cleared["clearEmailSettings"]["__typename"] == "Forbidden"
    settings = await store.email.get(tenant.tenant_id)
    assert settings is not None and settings.host == "smtp.mailer.example"


async def test_the_password_is_kept_only_while_host_and_username_stay(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    await _configure(api, tenant)
    kept = await _configure(api, tenant, password=None, fromName="Renamed")
    assert (kept["__typename"], kept["passwordSet"], kept["fromName"]) == (
        "EmailSettings",
        True,
        "Renamed",
    )
    moved = await _configure(api, tenant, password=None, host="smtp.elsewhere.example")
    assert moved["__typename"] == "InvalidInput"
    assert [e["path"] for e in moved["errors"]] == ["password"]
    settings = await store.email.get(tenant.tenant_id)
    assert settings is not None and settings.host == "smtp.mailer.example"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "mongodb", "169.254.169.254", "10.1.2.3", "[::1]"]
)
async def test_an_internal_smtp_host_is_refused_with_nothing_stored(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, host: str
) -> None:
    refused = await _configure(api, tenant, host=host)
    assert refused["__typename"] == "InvalidInput", refused
    assert refused["errors"][0]["path"] == "host"
    assert await store.email.get(tenant.tenant_id) is None


async def test_a_host_the_deployment_allows_may_be_configured(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry, tenant: TenantKeys
) -> None:
    guard = DestinationGuard(["10.1.0.0/16", "relay"])
    async with _client(store, temporal_env, registry, guard) as api:
        for host in ("10.1.2.3", "relay"):
            assert (await _configure(api, tenant, host=host))["__typename"] == "EmailSettings"
        assert (await _configure(api, tenant, host="10.2.0.1"))["__typename"] == "InvalidInput"


async def test_malformed_settings_name_each_field(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    bad = await _configure(
        api, tenant, port=0, fromAddress="not-an-address", username=None, password=None
    )
    assert bad["__typename"] == "InvalidInput"
    assert sorted(e["path"] for e in bad["errors"]) == ["from_address", "port"]
    assert await store.email.get(tenant.tenant_id) is None
