"""The tenant's messaging policy through GraphQL: admins set it, everyone reads it, bad input is
named and stores nothing."""

from __future__ import annotations

import httpx

from tests.api.support import TenantKeys, gql

SET = """
mutation($input: MessagingPolicyInput!) {
  setMessagingPolicy(input: $input) {
    __typename
    ... on MessagingPolicy { timezone quietHours { start end } caps { id channels limit period } }
    ... on InvalidInput { errors { path message } }
    ... on Forbidden { requiredPermission }
  }
}
"""
READ = "{ messagingPolicy { timezone quietHours { start end } caps { id limit period } } }"

POLICY = {
    "timezone": "Asia/Shanghai",
    "quietHours": {"start": 22, "end": 8},
    "caps": [
        {"id": "wecom_daily", "channels": ["wecom"], "limit": 2, "period": "DAY"},
        {"id": "weekly", "limit": 5, "period": "WEEK"},
    ],
}


async def test_an_admin_sets_the_policy_and_any_role_reads_it(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    empty = await gql(api, tenant, READ, role="viewer")
    assert empty["messagingPolicy"] == {"timezone": "Asia/Shanghai", "quietHours": None, "caps": []}

    data = await gql(api, tenant, SET, {"input": POLICY})
    read = await gql(api, tenant, READ, role="designer")
    elsewhere = await gql(api, other_tenant, READ)

    assert data["setMessagingPolicy"]["caps"][0] == {
        "id": "wecom_daily",
        "channels": ["wecom"],
        "limit": 2,
        "period": "DAY",
    }
    assert read["messagingPolicy"]["quietHours"] == {"start": 22, "end": 8}
    assert [c["id"] for c in read["messagingPolicy"]["caps"]] == ["wecom_daily", "weekly"]
    assert elsewhere["messagingPolicy"]["caps"] == []


async def test_only_admins_set_it_and_bad_policies_store_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    forbidden = await gql(api, tenant, SET, {"input": POLICY}, role="operator")
    bad = {
        "timezone": "Nowhere/Land",
        "caps": [
            {"id": "a", "limit": 0, "period": "DAY"},
            {"id": "b", "limit": 1, "period": "DAY"},
        ],
    }
    invalid = await gql(api, tenant, SET, {"input": bad})
    read = await gql(api, tenant, READ)

    assert forbidden["setMessagingPolicy"] == {
        "__typename": "Forbidden",
        "requiredPermission": "manage_channels",
    }
    paths = sorted(e["path"] for e in invalid["setMessagingPolicy"]["errors"])
    assert paths == ["input.caps.0.limit", "input.timezone"]
    assert read["messagingPolicy"]["caps"] == []
