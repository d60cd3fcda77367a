"""Metrics through GraphQL: journeys, hooks, channels; typed failures; tenant isolation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from domain.templates import canonical_journey
from store.database import Store
from tests.api.support import TenantKeys, gql
from tests.integration.test_store_metrics import HOUR, RANGE, T0, Seed, Step, seed_audience

FROM, TO = RANGE.start.isoformat(), RANGE.end.isoformat()
LEVERS = "levers { entered buyers repeatBuyers orders revenue conversionRate repurchaseRate purchaseFrequency aov arpu }"

AUDIENCE = f"""
query($from: DateTime!, $to: DateTime!, $hook: String) {{
  audienceMetrics(from: $from, to: $to, hook: $hook) {{
    __typename
    ... on AudienceMetrics {{
      from to hook privateDomainUsers {LEVERS}
      retention {{ overall {{ day eligible retained rate }} cohorts {{ weekStart entered }} }}
    }}
    ... on InvalidInput {{ message errors {{ path message }} }}
  }}
}}
"""

HOOKS = f"""
query($from: DateTime!, $to: DateTime!) {{
  hookMetrics(from: $from, to: $to) {{
    ... on HookMetricsList {{ hooks {{ hook {LEVERS} }} }}
  }}
}}
"""

CHANNELS = f"""
query($from: DateTime!, $to: DateTime!) {{
  channelMetrics(from: $from, to: $to) {{
    ... on ChannelMetricsList {{
      channels {{
        channel
        deliveries {{ total succeeded failed pending skipped successRate customersReached }}
        {LEVERS}
      }}
    }}
  }}
}}
"""

JOURNEY = f"""
query($id: ID!, $from: DateTime!, $to: DateTime!, $version: Int) {{
  journeyMetrics(journeyId: $id, from: $from, to: $to, version: $version) {{
    __typename
    ... on JourneyMetrics {{
      journeyId version
      enrollments {{
        started converted conversionRate medianSecondsToConvert meanSecondsToConvert
      }}
      funnel {{
        nodeId kind entered enrollments reachRate proceeded proceedRate exited exitRate
        converted conversionRate
        edges {{ label target count rate }}
        exits {{ reason count rate }}
      }}
      {LEVERS}
    }}
    ... on NotFound {{ kind id }}
    ... on InvalidInput {{ errors {{ path }} }}
  }}
}}
"""


async def _journey(store: Store, tenant: TenantKeys) -> str:
    journey = await store.journeys.create(
        tenant.tenant_id, "Douyin to repurchase", T0, draft=canonical_journey("demo")
    )
    seed = Seed(store, tenant.tenant_id)
    start: list[Step] = [(None, "entry", "start"), ("entry", "welcome", "next")]
    converted: list[Step] = [
        ("welcome", "first_order", "goal:order.paid"),
        ("first_order", None, "lapsed"),
    ]
    for i in range(4):
        customer = await seed.customer(T0)
        path = start + converted if i == 0 else start
        await seed.enrollment(
            customer,
            T0 + i * HOUR,
            path,
            journey_id=journey.id,
            converted_after=2 * HOUR if i == 0 else None,
        )
        if i == 0:
            await seed.order(customer, T0 + 2 * HOUR, amount=88)
    return journey.id


async def test_a_viewer_reads_the_audience_levers_and_the_arpu_identity_holds(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    await seed_audience(store, tenant.tenant_id)

    data = await gql(api, tenant, AUDIENCE, {"from": FROM, "to": TO}, role="viewer")

    metrics = data["audienceMetrics"]
    levers = metrics["levers"]
    assert metrics["__typename"] == "AudienceMetrics"
    assert (levers["entered"], levers["buyers"], levers["repeatBuyers"]) == (10, 4, 2)
    assert (levers["orders"], levers["revenue"], levers["arpu"]) == (7, 450.0, 45.0)
    assert (levers["conversionRate"], levers["repurchaseRate"]) == (0.4, 0.5)
    assert levers["purchaseFrequency"] == 1.75
    assert levers["conversionRate"] * levers["purchaseFrequency"] * levers["aov"] == (
        pytest.approx(levers["arpu"])
    )
    assert metrics["privateDomainUsers"] == 0  # seeded customers only have external ids
    assert [p["day"] for p in metrics["retention"]["overall"]] == [7, 30, 90]
    assert [c["entered"] for c in metrics["retention"]["cohorts"]] == [10]


async def test_hook_metrics_give_one_row_per_first_touch_hook(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    await seed_audience(store, tenant.tenant_id)

    data = await gql(api, tenant, HOOKS, {"from": FROM, "to": TO}, role="viewer")
    one = await gql(api, tenant, AUDIENCE, {"from": FROM, "to": TO, "hook": "store-qr"})

    rows = {row["hook"]: row["levers"] for row in data["hookMetrics"]["hooks"]}
    assert list(rows) == ["douyin-ad", "store-qr", None]
    assert (rows["douyin-ad"]["entered"], rows["douyin-ad"]["revenue"]) == (6, 330.0)
    assert (rows["store-qr"]["entered"], rows["store-qr"]["aov"]) == (3, 120.0)
    assert (rows[None]["entered"], rows[None]["arpu"], rows[None]["aov"]) == (1, 0.0, None)
    assert one["audienceMetrics"]["levers"] == rows["store-qr"]


async def test_channel_metrics_count_deliveries_per_channel(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    seed = Seed(store, tenant.tenant_id)
    reached, missed = await seed.customer(T0), await seed.customer(T0)
    await seed.delivery(reached, "wecom", T0 + HOUR)
    await seed.delivery(missed, "wecom", T0 + HOUR, status="failed")
    await seed.delivery(missed, "wecom", T0 + HOUR, status="skipped")
    await seed.order(reached, T0 + 2 * HOUR, amount=50)

    data = await gql(api, tenant, CHANNELS, {"from": FROM, "to": TO}, role="viewer")

    [wecom] = data["channelMetrics"]["channels"]
    assert wecom["channel"] == "wecom"
    assert wecom["deliveries"] == {
        "total": 3,
        "succeeded": 1,
        "failed": 1,
        "pending": 0,
        "skipped": 1,
        "successRate": 1 / 3,
        "customersReached": 1,
    }
    assert (wecom["levers"]["entered"], wecom["levers"]["revenue"]) == (1, 50.0)


async def test_journey_metrics_give_the_funnel_in_node_order_and_conversion(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    journey_id = await _journey(store, tenant)

    data = await gql(
        api, tenant, JOURNEY, {"id": journey_id, "from": FROM, "to": TO}, role="viewer"
    )

    metrics = data["journeyMetrics"]
    assert metrics["enrollments"] == {
        "started": 4,
        "converted": 1,
        "conversionRate": 0.25,
        "medianSecondsToConvert": 7200.0,
        "meanSecondsToConvert": 7200.0,
    }
    funnel = {node["nodeId"]: node for node in metrics["funnel"]}
    assert [node["nodeId"] for node in metrics["funnel"]][:3] == ["entry", "welcome", "tag_lead"]
    assert len(metrics["funnel"]) == len(canonical_journey("demo").nodes)
    welcome = funnel["welcome"]
    assert (welcome["entered"], welcome["reachRate"], welcome["converted"]) == (4, 1.0, 1)
    assert welcome["edges"] == [
        {"label": "goal:order.paid", "target": "first_order", "count": 1, "rate": 0.25}
    ]
    assert funnel["first_order"]["exits"] == [{"reason": "lapsed", "count": 1, "rate": 1.0}]
    assert funnel["tag_lead"]["entered"] == 0 and funnel["tag_lead"]["reachRate"] == 0.0
    assert (metrics["levers"]["entered"], metrics["levers"]["revenue"]) == (4, 88.0)


async def test_a_bad_range_or_an_unknown_journey_is_a_typed_failure(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    backwards = {"from": TO, "to": FROM}
    unknown = {"id": "jrn_nope", "from": FROM, "to": TO}

    audience = await gql(api, tenant, AUDIENCE, backwards, role="viewer")
    missing = await gql(api, tenant, JOURNEY, unknown, role="viewer")
    version = await gql(api, tenant, JOURNEY, {**unknown, "version": 0}, role="viewer")

    assert audience["audienceMetrics"]["__typename"] == "InvalidInput"
    assert audience["audienceMetrics"]["errors"] == [
        {"path": "to", "message": "Value error, a time range must end after it starts"}
    ]
    assert missing["journeyMetrics"] == {
        "__typename": "NotFound",
        "kind": "journey",
        "id": "jrn_nope",
    }
    assert version["journeyMetrics"] == {
        "__typename": "InvalidInput",
        "errors": [{"path": "version"}],
    }


async def test_an_empty_range_answers_zeros_and_null_rates(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    journey_id = await _journey(store, tenant)
    empty = {"from": (T0 - timedelta(days=60)).isoformat(), "to": FROM}

    audience = await gql(api, tenant, AUDIENCE, empty)
    journey = await gql(api, tenant, JOURNEY, {**empty, "id": journey_id})

    levers = audience["audienceMetrics"]["levers"]
    assert levers["entered"] == 0 and levers["arpu"] is None and levers["aov"] is None
    assert journey["journeyMetrics"]["enrollments"]["conversionRate"] is None
    assert all(node["entered"] == 0 for node in journey["journeyMetrics"]["funnel"])


async def test_metrics_never_count_another_tenants_data(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await seed_audience(store, other_tenant.tenant_id)
    theirs = await _journey(store, other_tenant)

    audience = await gql(api, tenant, AUDIENCE, {"from": FROM, "to": TO})
    hooks = await gql(api, tenant, HOOKS, {"from": FROM, "to": TO})
    channels = await gql(api, tenant, CHANNELS, {"from": FROM, "to": TO})
    journey = await gql(api, tenant, JOURNEY, {"id": theirs, "from": FROM, "to": TO})

    assert audience["audienceMetrics"]["levers"]["entered"] == 0
    assert hooks["hookMetrics"]["hooks"] == []
    assert channels["channelMetrics"]["channels"] == []
    assert journey["journeyMetrics"]["__typename"] == "NotFound"
