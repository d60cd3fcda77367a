"""Hooks and the WeCom connection over GraphQL, provisioned by the real WeCom connector on the
WeCom simulator (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.wecom.client import WeComClient
from connectors.wecom.connector import WeComConnector
from connectors.wecom.envelope import CallbackCodec
from connectors.wecom.simulator import WeComDriver, WeComSimulator
from store.database import Store
from tests.api.support import TenantKeys, gql

SECRET = "s3cret-app"
TOKEN = "callback-token-1"
AES_KEY = base64.b64encode(os.urandom(32)).decode("ascii")[:43]

HOOK = """
    __typename
    ... on Hook { id name kind state configId qrCode staffUsers chatIds archived }
    ... on WeComUnavailable { message }
    ... on Forbidden { requiredPermission }
"""
INVALID = "... on InvalidInput { message errors { path message } }"
MISSING = "... on NotFound { missingKind: kind missingId: id }"
CONFLICT = "... on Conflict { message }"

CONFIGURE = """
mutation($input: ConfigureWeComInput!) {
  configureWeCom(input: $input) {
    __typename
    ... on WeComSettings { corpId baseUrl callbackPath secretSet callbackTokenSet massMessageLimit }
    ... on InvalidInput { errors { path message } }
    ... on Forbidden { requiredPermission }
  }
}"""

CREATE = (
    "mutation($input: CreateHookInput!) { createHook(input: $input) { " + HOOK + INVALID + " } }"
)
UPDATE = (
    "mutation($id: ID!, $name: String, $staff: [String!]) {"
    " updateHook(id: $id, name: $name, staffUsers: $staff) { "
    + HOOK
    + INVALID
    + MISSING
    + CONFLICT
    + " } }"
)
DELETE = "mutation($id: ID!) { deleteHook(id: $id) { " + HOOK + MISSING + " } }"
HOOKS = """
query($all: Boolean!) { hooks(includeArchived: $all) { nodes { id state archived } } }"""


@pytest.fixture
async def simulator() -> AsyncIterator[WeComSimulator]:
    sim = WeComSimulator(corp_id="ww-hooks", secret=SECRET)
    async with sim.serve():
        yield sim


@pytest.fixture
async def hooks_api(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
    simulator: WeComSimulator,
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        connector = WeComConnector(
            WeComClient(http, store.wecom_credentials),
            store.wecom_allowances,
            store.wecom_transfers,
        )
        app = create_app(
            store,
            temporal_env.client,
            registry,
            wecom_codec=CallbackCodec(),
            provisioner=connector,
            wecom_base_urls=[str(simulator.base_url)],
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


async def connect(
    client: httpx.AsyncClient, tenant: TenantKeys, sim: WeComSimulator
) -> dict[str, Any]:
    data = await gql(
        client,
        tenant,
        CONFIGURE,
        {
            "input": {
                "corpId": sim.corp_id,
                "secret": SECRET,
                "callbackToken": TOKEN,
                "encodingAesKey": AES_KEY,
                "baseUrl": sim.base_url,
            }
        },
    )
    result: dict[str, Any] = data["configureWeCom"]
    return result


async def create(
    client: httpx.AsyncClient, tenant: TenantKeys, hook: dict[str, Any], role: str = "designer"
) -> dict[str, Any]:
    data = await gql(client, tenant, CREATE, {"input": hook}, role=role)
    result: dict[str, Any] = data["createHook"]
    return result


def contact_way(**fields: Any) -> dict[str, Any]:
    """A channel-code spec: one staff member unless `fields` say otherwise."""
    return {"name": "a", "kind": "CONTACT_WAY", "staffUsers": ["a"], **fields}


@pytest.fixture
async def connected(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys, simulator: WeComSimulator
) -> dict[str, Any]:
    """The tenant's WeCom connection to the simulator, as configureWeCom answered it."""
    return await connect(hooks_api, tenant, simulator)


async def test_an_admin_connects_wecom_and_never_sees_the_secrets_again(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    settings = await connect(hooks_api, tenant, simulator)

    assert settings["__typename"] == "WeComSettings"
    assert settings["corpId"] == "ww-hooks"
    assert settings["callbackPath"].startswith("/v1/callbacks/wecom/")
    assert settings["secretSet"] is True
    read = await hooks_api.post(
        "/graphql",
        json={"query": "{ wecomSettings { corpId callbackPath massMessageLimit } }"},
        headers=tenant.auth("admin"),
    )
    assert read.json()["data"]["wecomSettings"]["callbackPath"] == settings["callbackPath"]
    for secret in (SECRET, TOKEN, AES_KEY):
        assert secret not in read.text


async def test_reconfiguring_keeps_the_callback_url_and_omitted_secrets(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    first = await connect(hooks_api, tenant, simulator)

    data = await gql(
        hooks_api,
        tenant,
        CONFIGURE,
        {"input": {"corpId": simulator.corp_id, "massMessageLimit": "per_week_7"}},
    )

    again = data["configureWeCom"]
    assert again["callbackPath"] == first["callbackPath"]
    assert again["massMessageLimit"] == "per_week_7"
    stored = await store.wecom_credentials.get(tenant.tenant_id)
    assert stored is not None
    assert stored.secret.get_secret_value() == SECRET


async def test_only_an_admin_may_connect_wecom(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    data = await gql(
        hooks_api,
        tenant,
        CONFIGURE,
        {
            "input": {
                "corpId": "ww-x",
                "secret": "s",
                "callbackToken": "t",
                "encodingAesKey": AES_KEY,
            }
        },
        role="designer",
    )
    assert data["configureWeCom"]["__typename"] == "Forbidden"
    read = await gql(hooks_api, tenant, "{ wecomSettings { corpId } }", role="designer")
    assert read["wecomSettings"] is None


async def test_first_configuration_needs_every_secret(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    data = await gql(hooks_api, tenant, CONFIGURE, {"input": {"corpId": "ww-x", "secret": "s"}})
    result = data["configureWeCom"]
    assert result["__typename"] == "InvalidInput"
    assert "encoding_aes_key" in result["errors"][0]["path"]


@pytest.mark.usefixtures("connected")
async def test_a_designer_creates_a_channel_code_on_wecom(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    hook = await create(
        hooks_api,
        tenant,
        contact_way(name="douyin spring", staffUsers=["zhangsan", "lisi"]),
    )

    assert hook["__typename"] == "Hook"
    assert hook["state"].startswith("h_") and len(hook["state"]) <= 30
    way = simulator.contact_ways[hook["configId"]]
    assert way["state"] == hook["state"]
    assert way["user"] == ["zhangsan", "lisi"]
    assert hook["qrCode"] == way["qr_code"]
    stored = await store.hooks.by_state(tenant.tenant_id, hook["state"])
    assert stored is not None and stored.id == hook["id"]


@pytest.mark.usefixtures("connected")
async def test_a_group_live_code_is_made_over_the_tenants_groups(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    chats = [simulator.create_chat("zhangsan", f"VIP {n}") for n in range(2)]

    hook = await create(
        hooks_api,
        tenant,
        {"name": "vip groups", "kind": "JOIN_WAY", "chatIds": chats, "roomBaseName": "VIP "},
    )

    assert hook["__typename"] == "Hook"
    way = simulator.join_ways[hook["configId"]]
    assert way["state"] == hook["state"]
    assert way["chat_id_list"] == chats


@pytest.mark.usefixtures("connected")
async def test_updating_a_channel_code_changes_its_staff_on_wecom(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    hook = await create(hooks_api, tenant, contact_way())

    data = await gql(
        hooks_api,
        tenant,
        UPDATE,
        {"id": hook["id"], "name": "renamed", "staff": ["b", "c"]},
        role="designer",
    )

    updated = data["updateHook"]
    assert (updated["name"], updated["staffUsers"]) == ("renamed", ["b", "c"])
    assert simulator.contact_ways[hook["configId"]]["user"] == ["b", "c"]


@pytest.mark.usefixtures("connected")
async def test_deleting_a_hook_removes_the_code_and_keeps_the_record(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    hook = await create(hooks_api, tenant, contact_way())

    data = await gql(hooks_api, tenant, DELETE, {"id": hook["id"]}, role="designer")

    assert data["deleteHook"]["archived"] is True
    assert hook["configId"] not in simulator.contact_ways
    live = await gql(hooks_api, tenant, HOOKS, {"all": False})
    every = await gql(hooks_api, tenant, HOOKS, {"all": True})
    assert live["hooks"]["nodes"] == []
    assert [node["id"] for node in every["hooks"]["nodes"]] == [hook["id"]]
    # customers it brought in stay attributed
    assert await store.hooks.by_state(tenant.tenant_id, hook["state"]) is not None


@pytest.mark.usefixtures("connected")
async def test_wecom_refusing_a_code_is_reported_and_nothing_is_recorded(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    simulator.fail_next("externalcontact/add_contact_way", 40001)

    hook = await create(hooks_api, tenant, contact_way())

    assert hook["__typename"] == "WeComUnavailable"
    assert SECRET not in hook["message"]
    assert (await store.hooks.list(tenant.tenant_id)).items == []


async def test_hooks_need_wecom_connected_first(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    hook = await create(hooks_api, tenant, contact_way())

    assert hook["__typename"] == "WeComUnavailable"
    assert "configureWeCom" in hook["message"]


async def test_a_viewer_may_not_create_hooks(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    hook = await create(hooks_api, tenant, contact_way(), role="viewer")
    assert hook["__typename"] == "Forbidden"
    assert hook["requiredPermission"] == "edit_journeys"


@pytest.mark.usefixtures("connected")
async def test_a_join_way_over_six_groups_is_invalid_input(
    hooks_api: httpx.AsyncClient, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    hook = await create(
        hooks_api, tenant, {"name": "g", "kind": "JOIN_WAY", "chatIds": [f"c{n}" for n in range(6)]}
    )

    assert hook["__typename"] == "InvalidInput"
    assert simulator.join_ways == {}


@pytest.mark.usefixtures("connected")
async def test_another_tenant_cannot_touch_a_hook(
    hooks_api: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    simulator: WeComSimulator,
) -> None:
    hook = await create(hooks_api, tenant, contact_way())

    data = await gql(hooks_api, other_tenant, DELETE, {"id": hook["id"]}, role="designer")

    assert data["deleteHook"]["__typename"] == "NotFound"
    assert hook["configId"] in simulator.contact_ways


async def test_customers_arriving_through_codes_are_attributed_to_their_hooks(
    hooks_api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    simulator: WeComSimulator,
    connected: dict[str, Any],
) -> None:
    code = await create(hooks_api, tenant, contact_way(name="spring", staffUsers=["zhangsan"]))
    groups = await create(
        hooks_api,
        tenant,
        {"name": "vip", "kind": "JOIN_WAY", "chatIds": [simulator.create_chat("zhangsan")]},
    )
    driver = WeComDriver(
        simulator,
        callback_url=connected["callbackPath"],
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        http=hooks_api,
        retries=1,  # every callback arrives twice
    )

    added = await driver.add_customer(state=code["state"])
    await driver.join_group(added.external_userid, groups["state"])

    assert added.status == 200 and driver.last_status == 200
    customer = await store.customers.get_by_identity(
        tenant.tenant_id, "wecom_external_userid", added.external_userid
    )
    assert customer is not None
    assert customer.first_touch_hook == code["state"]
    events = (await store.events.list_for_customer(tenant.tenant_id, customer.id)).items
    assert [event.type for event in events] == ["wecom.contact_added", "wecom.group_joined"]
    assert events[0].properties["hook_id"] == code["id"]
    assert events[0].properties["welcome_code"] == added.welcome_code
    assert events[1].properties["state"] == groups["state"]
    assert events[1].properties["hook_id"] == groups["id"]


@pytest.mark.usefixtures("connected")
async def test_a_channel_code_may_carry_a_state_the_brand_chose(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    hook = await create(
        hooks_api,
        tenant,
        contact_way(name="douyin spring", staffUsers=["zhangsan"], state="douyin-ad-spring"),
    )

    assert hook["__typename"] == "Hook"
    assert hook["state"] == "douyin-ad-spring"
    assert simulator.contact_ways[hook["configId"]]["state"] == "douyin-ad-spring"
    stored = await store.hooks.by_state(tenant.tenant_id, "douyin-ad-spring")
    assert stored is not None and stored.id == hook["id"]


@pytest.mark.usefixtures("connected")
async def test_a_state_another_hook_uses_is_refused_before_wecom_is_asked(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    spec = contact_way(state="spring")
    first = await create(hooks_api, tenant, spec)

    again = await create(hooks_api, tenant, {**spec, "name": "b"})

    assert again["__typename"] == "InvalidInput"
    assert [error["path"] for error in again["errors"]] == ["state"]
    assert first["id"] in again["errors"][0]["message"]
    assert list(simulator.contact_ways) == [first["configId"]]
    assert len((await store.hooks.list(tenant.tenant_id)).items) == 1


@pytest.mark.usefixtures("connected")
async def test_a_state_in_the_generated_states_prefix_is_refused(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    hook = await create(hooks_api, tenant, contact_way(state="h_spring"))

    assert hook["__typename"] == "InvalidInput"
    assert [error["path"] for error in hook["errors"]] == ["state"]
    assert "h_" in hook["errors"][0]["message"]
    assert simulator.contact_ways == {}
    assert (await store.hooks.list(tenant.tenant_id)).items == []


@pytest.mark.usefixtures("connected")
async def test_a_state_longer_than_wecom_allows_is_refused(
    hooks_api: httpx.AsyncClient, store: Store, tenant: TenantKeys, simulator: WeComSimulator
) -> None:
    too_long = await create(
        hooks_api,
        tenant,
        {"name": "a", "kind": "JOIN_WAY", "chatIds": ["c1"], "state": "s" * 31},
    )
    longest = await create(
        hooks_api,
        tenant,
        {
            "name": "b",
            "kind": "JOIN_WAY",
            "chatIds": [simulator.create_chat("zhangsan")],
            "state": "s" * 30,
        },
    )

    assert too_long["__typename"] == "InvalidInput"
    assert [error["path"] for error in too_long["errors"]] == ["state"]
    assert "30" in too_long["errors"][0]["message"]
    assert (longest["__typename"], longest["state"]) == ("Hook", "s" * 30)
    assert [way["state"] for way in simulator.join_ways.values()] == ["s" * 30]
