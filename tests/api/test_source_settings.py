"""Configuring the sources through GraphQL: admins only, secrets written but never read back."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from store.mongo import CHANNEL_SETTINGS
from tests.api.sources import DOUYIN_SECRET, douyin_clue, douyin_headers, order, order_headers
from tests.api.support import TenantKeys, gql

SETTINGS = "kind callbackId path clientKey clientId previousSecretValidUntil"
SET_DOUYIN = f"""
mutation($input: DouyinLeadSourceInput!) {{
  setDouyinLeadSource(input: $input) {{
    __typename
    ... on SourceSettings {{ {SETTINGS} }}
    ... on InvalidInput {{ errors {{ path message }} }}
    ... on Forbidden {{ requiredPermission }}
  }}
}}
"""
SET_ORDERS = f"""
mutation {{
  setOrderWebhook {{
    __typename
    ... on OrderWebhookSecret {{ secret settings {{ {SETTINGS} }} }}
  }}
}}
"""
ROTATE_ORDERS = f"""
mutation($hours: Int!) {{
  rotateOrderWebhookSecret(overlapHours: $hours) {{
    __typename
    ... on OrderWebhookSecret {{ secret settings {{ {SETTINGS} }} }}
    ... on NotFound {{ kind }}
  }}
}}
"""
CLEAR = """
mutation($kind: SourceKind!) {
  clearSource(kind: $kind) { __typename ... on SourceCleared { kind wasConnected } }
}
"""
SOURCES = f"query {{ sources {{ {SETTINGS} }} }}"


async def test_an_admin_connects_douyin_and_its_pushes_are_taken_at_the_url_answered(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    data = await gql(
        api, tenant, SET_DOUYIN, {"input": {"clientSecret": DOUYIN_SECRET, "clientKey": "aw1"}}
    )
    made = data["setDouyinLeadSource"]
    assert made["__typename"] == "SourceSettings"
    assert made["kind"] == "DOUYIN" and made["clientKey"] == "aw1"
    assert made["path"] == f"/v1/sources/douyin/{made['callbackId']}"
    body = douyin_clue()
    assert (await api.post(made["path"], content=body, headers=douyin_headers(body))).is_success

    listed = await gql(api, tenant, SOURCES)
    assert listed["sources"] == [{k: made[k] for k in made if k != "__typename"}]
    assert DOUYIN_SECRET not in json.dumps(listed)
    raw = await mongo_db[CHANNEL_SETTINGS].find_one({"tenant_id": tenant.tenant_id})
    assert raw is not None and DOUYIN_SECRET not in json.dumps(raw, default=str)  # sealed
    assert (await gql(api, other_tenant, SOURCES))["sources"] == []

    again = await gql(api, tenant, SET_DOUYIN, {"input": {"clientSecret": "rotated"}})
    assert again["setDouyinLeadSource"]["callbackId"] == made["callbackId"]  # the URL stays
    stale = await api.post(made["path"], content=body, headers=douyin_headers(body))
    assert stale.status_code == 403  # signed with the old secret

    cleared = await gql(api, tenant, CLEAR, {"kind": "DOUYIN"})
    assert cleared["clearSource"] == {
        "__typename": "SourceCleared",
        "kind": "DOUYIN",
        "wasConnected": True,
    }
    gone = await api.post(made["path"], content=body, headers=douyin_headers(body, "rotated"))
    assert gone.status_code == 404


async def test_the_order_webhook_secret_is_shown_once_and_rotates_with_an_overlap(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    missing = await gql(api, tenant, ROTATE_ORDERS, {"hours": 1})
    assert missing["rotateOrderWebhookSecret"]["__typename"] == "NotFound"
    made = (await gql(api, tenant, SET_ORDERS))["setOrderWebhook"]
    secret, path = made["secret"], made["settings"]["path"]
    assert secret.startswith("ossec_")
    assert secret not in json.dumps(await gql(api, tenant, SOURCES))
    rotated = (await gql(api, tenant, ROTATE_ORDERS, {"hours": 1}))["rotateOrderWebhookSecret"]
    assert rotated["secret"] != secret
    assert rotated["settings"]["previousSecretValidUntil"] is not None
    for key, order_id in ((secret, "E-old"), (rotated["secret"], "E-new")):
        body = order(order_id=order_id)
        response = await api.post(path, content=body, headers=order_headers(body, key))
        assert response.status_code == 200, response.text


async def test_only_admins_configure_sources(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    for role in ("designer", "operator", "viewer"):
        data = await gql(api, tenant, SET_DOUYIN, {"input": {"clientSecret": "x"}}, role=role)
        assert data["setDouyinLeadSource"] == {
            "__typename": "Forbidden",
            "requiredPermission": "manage_channels",
        }
        assert (await gql(api, tenant, SOURCES, role=role))["sources"] is None
    empty = await gql(api, tenant, SET_DOUYIN, {"input": {"clientSecret": "  "}})
    assert empty["setDouyinLeadSource"]["__typename"] == "InvalidInput"
    assert (await gql(api, tenant, SOURCES))["sources"] == []
