"""Connecting WeChat apps through GraphQL: admins only, secrets write-only and sealed, base URLs
restricted to the allowed roots, and the push URL found by its callback id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.wechat import WeChatCodec
from store.database import Store
from tests.api.support import TenantKeys, gql

SIMULATOR = "http://127.0.0.1:9/cgi-bin/"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CONFIGURE = """
mutation($input: ConfigureWeChatAppInput!) {
  configureWeChatApp(input: $input) {
    __typename
    ... on WeChatApp {
      kind appid baseUrl appsecretSet callbackTokenSet encodingAesKeySet callbackPath
    }
    ... on InvalidInput { errors { path message } }
    ... on Forbidden { message }
  }
}
"""
APPS = "{ wechatApps { kind appid baseUrl callbackPath } }"
CLEAR = """
mutation($kind: WeChatAppKind!) {
  clearWeChatApp(kind: $kind) { __typename ... on WeChatAppCleared { kind cleared } }
}
"""


@pytest.fixture
async def client(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        store,
        temporal_env.client,
        registry,
        wechat_codec=WeChatCodec(),
        wechat_base_urls=[SIMULATOR],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


def _input(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "MINIPROGRAM",
        "appid": "wxmp0000000000001",
        "appsecret": "the-app-secret",
        "callbackToken": "the-push-token",
        "encodingAesKey": AES_KEY,
        "baseUrl": SIMULATOR,
        **overrides,
    }


async def test_an_admin_connects_an_app_and_sees_only_its_public_view(
    client: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    data = await gql(client, tenant, CONFIGURE, {"input": _input()})
    app = data["configureWeChatApp"]
    assert app["__typename"] == "WeChatApp"
    assert app["kind"] == "MINIPROGRAM" and app["baseUrl"] == SIMULATOR
    assert app["appsecretSet"] and app["callbackTokenSet"] and app["encodingAesKeySet"]
    callback_id = app["callbackPath"].rsplit("/", 1)[1]
    assert app["callbackPath"] == f"/v1/callbacks/miniprogram/{callback_id}"
    found = await store.wechat_apps.by_callback_id("miniprogram", callback_id)
    assert found is not None and found[0] == tenant.tenant_id
    assert found[1].appsecret.get_secret_value() == "the-app-secret"
    raw = await store.db["channel_settings"].find_one({"tenant_id": tenant.tenant_id})
    assert raw is not None and "the-app-secret" not in str(raw) and "the-push-token" not in str(raw)

    listed = await gql(client, tenant, APPS)
    assert listed["wechatApps"] == [
        {
            "kind": "MINIPROGRAM",
            "appid": "wxmp0000000000001",
            "baseUrl": SIMULATOR,
            "callbackPath": app["callbackPath"],
        }
    ]
    # Secrets omitted keep their values, and the callback URL stays.
    again = await gql(
        client, tenant, CONFIGURE, {"input": {"kind": "MINIPROGRAM", "appid": "wxmp0000000000001"}}
    )
    assert again["configureWeChatApp"]["callbackPath"] == app["callbackPath"]
    response = await client.post("/graphql", json={"query": APPS}, headers=tenant.auth())
    assert "the-app-secret" not in response.text


async def test_other_roles_are_refused_and_see_nothing(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await gql(client, tenant, CONFIGURE, {"input": _input()})
    for role in ("designer", "viewer"):
        data = await gql(client, tenant, CONFIGURE, {"input": _input()}, role=role)
        assert data["configureWeChatApp"]["__typename"] == "Forbidden"
        assert (await gql(client, tenant, APPS, role=role))["wechatApps"] is None


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"baseUrl": "http://169.254.169.254/cgi-bin/"}, "base_url"),
        ({"appid": "not-an-appid"}, "appid"),
        ({"encodingAesKey": "short"}, "encoding_aes_key"),
        ({"appsecret": None}, "appsecret"),
    ],
)
async def test_bad_settings_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    overrides: dict[str, Any],
    path: str,
) -> None:
    data = await gql(client, tenant, CONFIGURE, {"input": _input(**overrides)})
    result = data["configureWeChatApp"]
    assert result["__typename"] == "InvalidInput"
    assert path in result["errors"][0]["path"]
    assert await store.wechat_apps.get(tenant.tenant_id, "miniprogram") is None


async def test_clearing_an_app_disconnects_its_push_url(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    app = (await gql(client, tenant, CONFIGURE, {"input": _input(kind="OA")}))["configureWeChatApp"]
    cleared = await gql(client, tenant, CLEAR, {"kind": "OA"})
    assert cleared["clearWeChatApp"] == {
        "__typename": "WeChatAppCleared",
        "kind": "OA",
        "cleared": True,
    }
    assert (await gql(client, tenant, APPS))["wechatApps"] == []
    answer = await client.get(
        app["callbackPath"],
        params={"signature": "x", "timestamp": "1", "nonce": "n", "echostr": "e"},
    )
    assert answer.status_code == 404
