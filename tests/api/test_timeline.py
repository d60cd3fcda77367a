"""A customer's timeline through GraphQL: events, deliveries and transitions in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.deliveries import Delivery
from domain.enrollments import Transition
from domain.events import Event
from store.database import Store
from tests.api.support import TenantKeys, gql

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

TIMELINE = """
query($id: ID!, $first: Int, $after: String, $kinds: [TimelineKind!]) {
  customer(id: $id) {
    timeline(first: $first, after: $after, kinds: $kinds) {
      edges { cursor node { kind at summary event { id } delivery { nodeId } transition { toNode } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _event(store: Store, tenant: str, customer: str, event_id: str, minutes: int) -> None:
    await store.events.insert(
        Event(
            id=event_id,
            tenant_id=tenant,
            customer_id=customer,
            type="order.paid" if event_id.startswith("o") else "wecom.contact_added",
            identity={"external_id": customer},
            timestamp=T0 + timedelta(minutes=minutes),
            received_at=T0,
        )
    )


async def _delivery(store: Store, tenant: str, customer: str, node: str, minutes: int) -> None:
    at = T0 + timedelta(minutes=minutes)
    await store.deliveries.begin(
        Delivery(
            tenant_id=tenant,
            idempotency_key=f"{customer}/{node}/1",
            enrollment_id=f"{tenant}:jrn_1:{customer}",
            customer_id=customer,
            journey_id="jrn_1",
            node_id=node,
            channel="sandbox",
            action="send_message",
            created_at=at,
            updated_at=at,
        )
    )


async def _transition(
    store: Store, tenant: str, customer: str, seq: int, to_node: str, minutes: int
) -> None:
    await store.enrollments.record_transitions(
        [
            Transition(
                tenant_id=tenant,
                enrollment_id=f"{tenant}:jrn_1:{customer}",
                journey_id="jrn_1",
                version=1,
                customer_id=customer,
                seq=seq,
                from_node=None if seq == 0 else "start",
                to_node=to_node,
                label="next",
                at=T0 + timedelta(minutes=minutes),
            )
        ]
    )


@pytest.fixture
async def history(store: Store, tenant: TenantKeys) -> dict[str, str]:
    """Li (with a younger record merged into her) and Wang, each with a little history."""
    t = tenant.tenant_id
    li, _ = await store.customers.resolve(t, {"phone": "13800000001"}, T0)
    young, _ = await store.customers.resolve(t, {"openid": "o-young"}, T0 + timedelta(seconds=1))
    wang, _ = await store.customers.resolve(t, {"phone": "13800000002"}, T0)
    await _event(store, t, li.id, "c1", 0)
    await _transition(store, t, li.id, 0, "start", 0)
    await _transition(store, t, li.id, 1, "welcome", 1)
    await _delivery(store, t, li.id, "welcome", 1)
    await _event(store, t, li.id, "o1", 30)
    # the younger record's journey history stays under its own id after the merge
    await _delivery(store, t, young.id, "coupon", 20)
    await _event(store, t, wang.id, "c2", 5)
    await _delivery(store, t, wang.id, "welcome", 6)
    merged, _ = await store.customers.resolve(
        t, {"phone": "13800000001", "openid": "o-young"}, T0 + timedelta(minutes=40)
    )
    assert merged.id == li.id
    return {"li": li.id, "wang": wang.id}


def _describe(node: dict[str, Any]) -> str:
    if node["event"]:
        return f"event:{node['event']['id']}"
    if node["delivery"]:
        return f"delivery:{node['delivery']['nodeId']}"
    return f"transition:{node['transition']['toNode']}"


async def _timeline(
    api: httpx.AsyncClient, tenant: TenantKeys, customer_id: str, **args: Any
) -> dict[str, Any]:
    data = await gql(api, tenant, TIMELINE, {"id": customer_id, **args}, role="viewer")
    timeline: dict[str, Any] = data["customer"]["timeline"]
    return timeline


async def test_the_timeline_merges_events_deliveries_and_transitions_in_time_order(
    api: httpx.AsyncClient, tenant: TenantKeys, history: dict[str, str]
) -> None:
    timeline = await _timeline(api, tenant, history["li"])
    nodes = [edge["node"] for edge in timeline["edges"]]
    assert [_describe(n) for n in nodes] == [
        "event:c1",
        "transition:start",
        "delivery:welcome",
        "transition:welcome",
        "delivery:coupon",
        "event:o1",
    ]
    assert [n["at"] for n in nodes] == sorted(n["at"] for n in nodes)
    assert [n["kind"] for n in nodes[:3]] == ["EVENT", "TRANSITION", "DELIVERY"]
    assert nodes[0]["summary"] == "event wecom.contact_added"
    assert nodes[2]["summary"] == "sandbox.send_message at node welcome: pending"
    assert nodes[3]["summary"] == "journey jrn_1 v1: start → welcome (next)"
    assert timeline["pageInfo"]["hasNextPage"] is False


async def test_timeline_pages_are_stable_and_cover_every_entry_once(
    api: httpx.AsyncClient, tenant: TenantKeys, history: dict[str, str]
) -> None:
    whole = await _timeline(api, tenant, history["li"])
    seen: list[str] = []
    after = None
    while True:
        page = await _timeline(api, tenant, history["li"], first=2, after=after)
        assert len(page["edges"]) <= 2
        seen += [_describe(edge["node"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [_describe(edge["node"]) for edge in whole["edges"]]


async def test_kinds_keep_only_the_asked_entries(
    api: httpx.AsyncClient, tenant: TenantKeys, history: dict[str, str]
) -> None:
    deliveries = await _timeline(api, tenant, history["li"], kinds=["DELIVERY"])
    assert [_describe(e["node"]) for e in deliveries["edges"]] == [
        "delivery:welcome",
        "delivery:coupon",
    ]
    steps = await _timeline(api, tenant, history["li"], kinds=["TRANSITION", "EVENT"])
    assert [_describe(e["node"]) for e in steps["edges"]] == [
        "event:c1",
        "transition:start",
        "transition:welcome",
        "event:o1",
    ]


async def test_a_timeline_shows_nothing_of_other_customers_or_tenants(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    history: dict[str, str],
) -> None:
    wang = await _timeline(api, tenant, history["wang"])
    assert [_describe(e["node"]) for e in wang["edges"]] == ["event:c2", "delivery:welcome"]
    data = await gql(api, other_tenant, TIMELINE, {"id": history["li"]}, role="viewer")
    assert data["customer"] is None


async def test_a_cursor_that_is_not_ours_is_a_bad_user_input_error(
    api: httpx.AsyncClient, tenant: TenantKeys, history: dict[str, str]
) -> None:
    response = await api.post(
        "/graphql",
        json={"query": TIMELINE, "variables": {"id": history["li"], "after": "bm90IGEgY3Vyc29y"}},
        headers=tenant.auth("viewer"),
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
