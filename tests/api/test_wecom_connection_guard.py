"""Where the WeCom secret may go, and what a failed WeCom call tells the API's caller: the real
app and connector against WeCom simulators (real HTTP servers on 127.0.0.1)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.wecom.client import WeComClient
from connectors.wecom.connector import WeComConnector
from connectors.wecom.envelope import CallbackCodec
from connectors.wecom.simulator import WeComSimulator
from domain.channels import ProvisionedCode
from store.database import Store
from tests.api.support import TenantKeys, gql

SECRET = "s3cret-guarded"
AES_KEY = base64.b64encode(os.urandom(32)).decode("ascii")[:43]

CONFIGURE = """
mutation($input: ConfigureWeComInput!) {
  configureWeCom(input: $input) {
    __typename
    ... on WeComSettings { corpId baseUrl }
    ... on InvalidInput { errors { path message } }
  }
}"""
CREATE = """
mutation($input: CreateHookInput!) {
  createHook(input: $input) { __typename ... on WeComUnavailable { message } }
}"""
CONTACT_WAY = {"name": "a", "kind": "CONTACT_WAY", "staffUsers": ["a"]}


ApiOver = Callable[..., httpx.AsyncClient]
Sims = tuple[WeComSimulator, WeComSimulator]


@pytest.fixture
async def connector(store: Store) -> AsyncIterator[WeComConnector]:
    async with httpx.AsyncClient() as http:
        yield WeComConnector(
            WeComClient(http, store.wecom_credentials),
            store.wecom_allowances,
            store.wecom_transfers,
        )


@pytest.fixture
def api_over(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    connector: WeComConnector,
) -> ApiOver:
    """Makes a client of the app with WeCom callbacks, allowing the given WeCom hosts besides
    WeCom's own, and provisioning through the real connector unless given another."""

    def make(base_urls: Collection[str] = (), provisioner: Any = connector) -> httpx.AsyncClient:
        app = create_app(
            store,
            temporal_env.client,
            registry,
            wecom_codec=CallbackCodec(),
            provisioner=provisioner,
            wecom_base_urls=base_urls,
        )
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url="http://api.test")

    return make


@pytest.fixture
async def sims() -> AsyncIterator[Sims]:
    """Two simulated corps: the one connected, and another host an admin might point at."""
    async with AsyncExitStack() as stack:
        found = []
        for corp in ("ww-guard", "ww-elsewhere"):
            sim = WeComSimulator(corp_id=corp, secret=SECRET)
            await stack.enter_async_context(sim.serve())
            found.append(sim)
        yield found[0], found[1]


async def create_hook(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    data = await gql(api, tenant, CREATE, {"input": CONTACT_WAY})
    result: dict[str, Any] = data["createHook"]
    return result


async def configure(api: httpx.AsyncClient, tenant: TenantKeys, **fields: Any) -> dict[str, Any]:
    data = await gql(api, tenant, CONFIGURE, {"input": fields})
    result: dict[str, Any] = data["configureWeCom"]
    return result


def secrets() -> dict[str, str]:
    return {"secret": SECRET, "callbackToken": "callback-token", "encodingAesKey": AES_KEY}


async def test_only_wecoms_own_api_root_is_accepted_unless_the_server_allows_more(
    api_over: ApiOver, store: Store, tenant: TenantKeys, sims: Sims
) -> None:
    sim, _ = sims
    async with api_over() as api:
        refused = await configure(
            api, tenant, corpId=sim.corp_id, baseUrl=sim.base_url, **secrets()
        )
        default = await configure(api, tenant, corpId=sim.corp_id, **secrets())

    assert refused["__typename"] == "InvalidInput"
    assert [e["path"] for e in refused["errors"]] == ["base_url"]
    assert default["baseUrl"] == "https://qyapi.weixin.qq.com/cgi-bin/"
    stored = await store.wecom_credentials.get(tenant.tenant_id)
    assert stored is not None and stored.base_url == "https://qyapi.weixin.qq.com/cgi-bin/"


async def test_moving_the_connection_to_another_host_or_corp_needs_the_secrets_again(
    api_over: ApiOver, store: Store, tenant: TenantKeys, sims: Sims
) -> None:
    sim, elsewhere = sims
    allowed = [str(sim.base_url), str(elsewhere.base_url)]
    async with api_over(allowed) as api:
        first = await configure(api, tenant, corpId=sim.corp_id, baseUrl=sim.base_url, **secrets())
        moved = await configure(api, tenant, corpId=sim.corp_id, baseUrl=elsewhere.base_url)
        other_corp = await configure(api, tenant, corpId="ww-other")
        assert (await create_hook(api, tenant))["__typename"] == "Hook"
        retyped = await configure(
            api, tenant, corpId=elsewhere.corp_id, baseUrl=elsewhere.base_url, **secrets()
        )

    assert first["__typename"] == "WeComSettings"
    for refused in (moved, other_corp):
        assert refused["__typename"] == "InvalidInput"
        assert "secret" in refused["errors"][0]["path"]
    # The refused changes left the connection as it was: the secret went to its own host only.
    assert "gettoken" in sim.calls and elsewhere.calls == []
    assert retyped["__typename"] == "WeComSettings"
    assert retyped["baseUrl"] == elsewhere.base_url


async def test_a_refusal_by_wecom_is_reported_without_wecoms_own_words(
    api_over: ApiOver, store: Store, tenant: TenantKeys, sims: Sims
) -> None:
    sim, _ = sims
    async with api_over([str(sim.base_url)]) as api:
        await configure(api, tenant, corpId=sim.corp_id, baseUrl=sim.base_url, **secrets())
        sim.fail_next("externalcontact/add_contact_way", 40001)
        refused = await create_hook(api, tenant)
        sim.fail_next("externalcontact/add_contact_way", 503)
        unavailable = await create_hook(api, tenant)

    assert refused == {
        "__typename": "WeComUnavailable",
        "message": "WeCom refused to create the code (wecom.40001)",
    }
    assert unavailable == {
        "__typename": "WeComUnavailable",
        "message": "WeCom could not create the code just now; try again later",
    }
    assert (await store.hooks.list(tenant.tenant_id)).items == []


class _BrokenProvisioner:
    """A provisioner with a bug: what it raises is no channel error."""

    async def create_contact_way(self, tenant_id: str, **_: Any) -> ProvisionedCode:
        raise RuntimeError("connection string mongodb://user:pw@10.0.0.5 in a traceback")


async def test_a_bug_behind_the_provisioner_is_a_masked_internal_error(
    api_over: ApiOver, tenant: TenantKeys
) -> None:
    async with api_over(provisioner=_BrokenProvisioner()) as api:
        await configure(api, tenant, corpId="ww-guard", **secrets())
        response = await api.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": CONTACT_WAY}},
            headers=tenant.auth("designer"),
        )

    assert "mongodb://" not in response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["INTERNAL_SERVER_ERROR"]
