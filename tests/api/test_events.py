"""`POST /v1/events` and `ingestEvents`: per-event results, idempotency, identity resolution."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.rest.events import IngestLimits
from connectors.registry import ConnectorRegistry
from domain.events import MAX_PROPERTIES_BYTES, MAX_PROPERTIES_DEPTH
from store.database import Store
from tests.api.support import TenantKeys, event, gql, post_events

PHONE = "13800138000"


async def test_a_batch_with_one_bad_event_stores_the_good_ones_and_names_the_bad_one(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    bad = event("e2", "Order Paid", {"phone": PHONE}, timestamp="2026-03-01T10:00:00")
    body = await post_events(
        api,
        tenant,
        [
            event("e1", "order.paid", {"phone": PHONE}, {"total": 99}),
            bad,
            event("e3", "order.refunded", {"phone": PHONE}),
        ],
    )
    assert (body["accepted"], body["rejected"]) == (2, 1)
    statuses = [(r["index"], r["id"], r["status"]) for r in body["results"]]
    assert statuses == [(0, "e1", "accepted"), (1, "e2", "rejected"), (2, "e3", "accepted")]
    rejected = body["results"][1]
    assert {error["path"] for error in rejected["errors"]} == {"type", "timestamp"}
    assert rejected["customer_id"] is None
    assert await store.events.get(tenant.tenant_id, "e1") is not None
    assert await store.events.get(tenant.tenant_id, "e2") is None
    assert await store.events.get(tenant.tenant_id, "e3") is not None


async def test_an_event_that_is_not_an_object_is_rejected_on_its_own(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = await post_events(api, tenant, [event("e1", "order.paid", {"phone": PHONE}), "oops"])  # type: ignore[list-item]  # a malformed item on purpose
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["errors"][0]["message"] == "an event must be a JSON object"


async def test_sending_the_same_event_again_reports_a_duplicate_and_stores_it_once(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    first = await post_events(api, tenant, [event("e1", "order.paid", {"phone": PHONE})])
    again = await post_events(
        api,
        tenant,
        [event("e1", "order.paid", {"phone": PHONE}), event("e1", "order.paid", {"phone": PHONE})],
    )
    assert first["results"][0]["status"] == "accepted"
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["results"][0]["customer_id"] == first["results"][0]["customer_id"]
    page = await store.events.list_for_customer(
        tenant.tenant_id, first["results"][0]["customer_id"]
    )
    assert [e.id for e in page.items] == ["e1"]


async def test_events_naming_overlapping_identities_resolve_to_one_customer(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = await post_events(
        api,
        tenant,
        [
            event("e1", "lead.captured", {"phone": "+86 138-0013-8000"}),
            event("e2", "wecom.contact_added", {"phone": PHONE, "wecom_external_userid": "wm-1"}),
            event("e3", "order.paid", {"wecom_external_userid": "wm-1"}),
        ],
    )
    customers = {r["customer_id"] for r in body["results"]}
    assert len(customers) == 1
    assert [r["customer_created"] for r in body["results"]] == [True, False, False]
    query = """
    query($kind: String!, $value: String!) {
      customerByIdentity(kind: $kind, value: $value) {
        id identities { kind value }
        timeline { nodes { kind event { id type } } }
      }
    }
    """
    data = await gql(api, tenant, query, {"kind": "phone", "value": "8613800138000"}, role="viewer")
    customer = data["customerByIdentity"]
    assert customer["id"] in customers
    assert {(i["kind"], i["value"]) for i in customer["identities"]} == {
        ("phone", PHONE),
        ("wecom_external_userid", "wm-1"),
    }
    assert [n["event"]["id"] for n in customer["timeline"]["nodes"]] == ["e1", "e2", "e3"]


async def test_a_body_that_is_not_json_is_a_400(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await api.post(
        "/v1/events",
        content=b"{not json",
        headers={**tenant.auth("operator"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_a_body_without_events_is_a_400(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    for payload in ({"event": []}, {"events": []}, 42):
        response = await api.post("/v1/events", json=payload, headers=tenant.auth("operator"))
        assert response.status_code == 400, payload


async def test_a_bare_list_is_accepted_as_a_batch(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/v1/events",
        json=[event("e1", "order.paid", {"phone": PHONE})],
        headers=tenant.auth("operator"),
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 1


async def test_oversized_batches_and_bodies_are_refused_with_413(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry, tenant: TenantKeys
) -> None:
    app = create_app(
        store, temporal_env.client, registry, limits=IngestLimits(max_batch=2, max_body_bytes=2048)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        events = [event(f"e{i}", "order.paid", {"phone": PHONE}) for i in range(3)]
        too_many = await client.post("/v1/events", json=events, headers=tenant.auth("operator"))
        assert too_many.status_code == 413
        assert too_many.json()["error"]["code"] == "batch_too_large"
        big = [event("e1", "order.paid", {"phone": PHONE}, {"note": "x" * 4096})]
        too_big = await client.post("/v1/events", json=big, headers=tenant.auth("operator"))
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "body_too_large"
    assert await store.events.get(tenant.tenant_id, "e0") is None


async def test_ingest_events_through_graphql_reports_each_event(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    query = """
    mutation($events: [EventInput!]!) {
      ingestEvents(events: $events) {
        __typename
        ... on IngestEventsPayload {
          accepted rejected duplicates
          results { index eventId status customerId errors { path message } }
        }
      }
    }
    """
    good = {
        "id": "g1",
        "type": "order.paid",
        "identities": [{"kind": "phone", "value": PHONE}],
        "timestamp": "2026-03-01T10:00:00+08:00",
        "properties": {"total": 128},
    }
    bad = {**good, "id": "g2", "identities": [{"kind": "Phone!", "value": PHONE}]}
    data = await gql(api, tenant, query, {"events": [good, bad, good]}, role="operator")
    payload = data["ingestEvents"]
    assert payload["__typename"] == "IngestEventsPayload"
    assert (payload["accepted"], payload["rejected"], payload["duplicates"]) == (1, 1, 1)
    assert payload["results"][1]["errors"][0]["path"].startswith("identity")
    stored = await store.events.get(tenant.tenant_id, "g1")
    assert stored is not None and stored.properties == {"total": 128}


def _nested(levels: int) -> dict[str, Any]:
    """`{"k": {"k": ... {}}}`, `levels` objects deep."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


async def test_events_the_store_cannot_hold_are_rejected_alone_with_a_reason(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    bad = {
        "huge-int": event("b1", "order.paid", {"phone": PHONE}, {"total": 2**63}),
        "tiny-int": event("b2", "order.paid", {"phone": PHONE}, {"n": [-(2**63) - 1]}),
        "deep": event("b3", "order.paid", {"phone": PHONE}, _nested(MAX_PROPERTIES_DEPTH + 1)),
        "nul-key": event("b4", "order.paid", {"phone": PHONE}, {"a\x00b": 1}),
        "too-big": event("b5", "order.paid", {"phone": PHONE}, {"x": "y" * MAX_PROPERTIES_BYTES}),
        "too-old": event("b6", "order.paid", {"phone": PHONE}, timestamp="1970-01-01T00:00:00Z"),
        "future": event("b7", "order.paid", {"phone": PHONE}, timestamp=future),
    }
    limits = [
        event("g1", "order.paid", {"phone": PHONE}, {"total": 2**63 - 1, "low": -(2**63)}),
        event("g2", "order.paid", {"phone": PHONE}, _nested(MAX_PROPERTIES_DEPTH)),
        event("g3", "order.paid", {"phone": PHONE}, timestamp="2000-01-01T00:00:00Z"),
    ]
    body = await post_events(api, tenant, [limits[0], *bad.values(), *limits[1:]])

    results = body["results"]
    statuses = [r["status"] for r in results]
    assert statuses == ["accepted"] + ["rejected"] * len(bad) + ["accepted", "accepted"]
    paths = {
        name: [e["path"] for e in r["errors"]] for name, r in zip(bad, results[1:-2], strict=True)
    }
    assert paths == {
        "huge-int": ["properties"],
        "tiny-int": ["properties"],
        "deep": ["properties"],
        "nul-key": ["properties"],
        "too-big": ["properties"],
        "too-old": ["timestamp"],
        "future": ["timestamp"],
    }
    assert "64-bit" in results[1]["errors"][0]["message"]
    assert "deeper than 32" in results[3]["errors"][0]["message"]
    for event_id in ("g1", "g2", "g3"):
        assert await store.events.get(tenant.tenant_id, event_id) is not None
    stored = await store.events.get(tenant.tenant_id, "g1")
    assert stored is not None and stored.properties["total"] == 2**63 - 1


async def test_a_content_length_of_other_digits_is_not_trusted_and_not_a_crash(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    body = json.dumps([event("e1", "order.paid", {"phone": PHONE})]).encode()
    headers = [(name.encode(), value.encode()) for name, value in tenant.auth("operator").items()]
    # b"\xb2" is "²" in Latin-1, the encoding of HTTP header values: a digit to `isdigit`.
    headers += [(b"content-type", b"application/json"), (b"content-length", b"\xb2")]
    response = await api.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert await store.events.get(tenant.tenant_id, "e1") is not None
