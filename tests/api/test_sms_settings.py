"""`configureSms` / `smsSettings` / `clearSmsSettings`: admins only, the secret write-only and
sealed, the API root restricted to the providers' own and the server's allowed ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from domain.sms import SETTINGS_KIND, SmsSettings
from store.database import Store
from store.mongo import CHANNEL_SETTINGS
from tests.api.support import TenantKeys, gql

SIMULATOR = "http://127.0.0.1:9/aliyun/"
FIELDS = "provider accessKeyId signName sdkAppId region baseUrl secretSet callbackPath"
CONFIGURE = f"""
mutation($input: ConfigureSmsInput!) {{
  configureSms(input: $input) {{
    __typename
    ... on SmsSettings {{ {FIELDS} }}
    ... on InvalidInput {{ message errors {{ path message }} }}
    ... on Forbidden {{ message }}
  }}
}}
"""
READ = f"query {{ smsSettings {{ {FIELDS} }} }}"
CLEAR = """
mutation { clearSmsSettings { __typename ... on SmsSettingsCleared { cleared } } }
"""
ALIYUN = {"provider": "ALIYUN", "accessKeyId": "LTAI-1", "signName": "Acme", "secret": "top-s3cret"}


@pytest.fixture
async def api(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, temporal_env.client, registry, sms_base_urls=[SIMULATOR])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _configure(
    api: httpx.AsyncClient, tenant: TenantKeys, role: str = "admin", **given: Any
) -> dict[str, Any]:
    data = await gql(api, tenant, CONFIGURE, {"input": {**ALIYUN, **given}}, role)
    result: dict[str, Any] = data["configureSms"]
    return result


async def test_an_admin_sets_the_account_and_reads_back_only_its_public_view(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    result = await _configure(api, tenant)
    assert result["__typename"] == "SmsSettings"
    assert result["baseUrl"] == "https://dysmsapi.aliyuncs.com/"
    assert (result["region"], result["secretSet"], result["sdkAppId"]) == (
        "cn-hangzhou",
        True,
        None,
    )
    stored = await store.channel_settings.get(tenant.tenant_id, SETTINGS_KIND, SmsSettings)
    assert stored is not None and stored.secret.get_secret_value() == "top-s3cret"
    assert result["callbackPath"] == f"/v1/callbacks/sms/aliyun/{stored.callback_id}"
    read = await api.post("/graphql", json={"query": READ}, headers=tenant.auth("admin"))
    assert "top-s3cret" not in read.text
    public = {name: value for name, value in result.items() if name != "__typename"}
    assert read.json()["data"]["smsSettings"] == public
    raw = await store.db[CHANNEL_SETTINGS].find_one({"tenant_id": tenant.tenant_id})
    assert raw is not None and "top-s3cret" not in str(raw)

    kept = await _configure(api, tenant, secret=None, signName="Acme 2")
    assert kept["__typename"] == "SmsSettings" and kept["callbackPath"] == result["callbackPath"]
    again = await store.channel_settings.get(tenant.tenant_id, SETTINGS_KIND, SmsSettings)
    assert again is not None and again.secret.get_secret_value() == "top-s3cret"


async def test_an_api_root_the_server_does_not_allow_is_refused(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    refused = await _configure(api, tenant, baseUrl="https://collector.example.com/")
    assert refused["__typename"] == "InvalidInput"
    assert refused["errors"][0]["path"] == "base_url"
    assert await store.channel_settings.get(tenant.tenant_id, SETTINGS_KIND, SmsSettings) is None
    allowed = await _configure(api, tenant, baseUrl=SIMULATOR.rstrip("/"))
    assert allowed["baseUrl"] == SIMULATOR


async def test_the_secret_is_required_again_with_a_new_root_or_key(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    assert (await _configure(api, tenant, secret=None))["__typename"] == "InvalidInput"
    await _configure(api, tenant)
    moved = await _configure(api, tenant, secret=None, baseUrl=SIMULATOR)
    assert moved["__typename"] == "InvalidInput" and moved["errors"][0]["path"] == "secret"
    rekeyed = await _configure(api, tenant, secret=None, accessKeyId="LTAI-2")
    assert rekeyed["__typename"] == "InvalidInput"


async def test_tencent_needs_its_sdk_app_id(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    missing = await _configure(api, tenant, provider="TENCENT")
    assert missing["__typename"] == "InvalidInput"
    ok = await _configure(api, tenant, provider="TENCENT", sdkAppId="1400000001")
    assert (ok["provider"], ok["baseUrl"], ok["region"]) == (
        "TENCENT",
        "https://sms.tencentcloudapi.com/",
        "ap-guangzhou",
    )


async def test_only_admins_configure_read_and_clear(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    forbidden = await _configure(api, tenant, role="designer")
    assert forbidden["__typename"] == "Forbidden"
    await _configure(api, tenant)
    assert (await gql(api, tenant, READ, role="operator"))["smsSettings"] is None
    assert (await gql(api, tenant, CLEAR, role="designer"))["clearSmsSettings"]["__typename"] == (
        "Forbidden"
    )
    cleared = await gql(api, tenant, CLEAR)
    assert cleared["clearSmsSettings"] == {"__typename": "SmsSettingsCleared", "cleared": True}
    assert await store.channel_settings.get(tenant.tenant_id, SETTINGS_KIND, SmsSettings) is None
