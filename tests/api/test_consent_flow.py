"""Consent through the public API, end to end: `setCustomerConsent` records it, the profile and
the `customers` filter show it, and an opted-out customer is sent nothing on that channel while
an opted-in one is (real Temporal dev server, real workers, real MongoDB)."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

SET_CONSENT = """
mutation($input: SetCustomerConsentInput!) {
  setCustomerConsent(input: $input) {
    __typename
    ... on Customer { id consent consents { channel granted status source at } }
    ... on InvalidInput { errors { path message } }
    ... on NotFound { kind missingId: id }
    ... on Forbidden { requiredPermission }
  }
}
"""

ENROLLMENT = """
query($id: ID!) {
  enrollment(id: $id) {
    status exitReason path
    deliveries { nodes { nodeId channel status error attempts } }
    history { ... on EnrollmentHistory { steps { summary failure } } }
  }
}
"""


def greeting_journey() -> dict[str, Any]:
    """Sign-ups get a personalised sandbox message; a refused one goes to `not_sent`."""
    return {
        "nodes": [
            {
                "kind": "entry",
                "id": "start",
                "trigger": {"type": "event", "event_type": "signup.completed"},
            },
            {
                "kind": "action",
                "id": "greet",
                "channel": "sandbox",
                "action": "send_message",
                "params": {
                    "text": "Hi {{ customer.attributes.nickname | default: '朋友' }}, "
                    "plan {{ event.properties.plan }}"
                },
                "respect_quiet_hours": False,
            },
            {"kind": "exit", "id": "sent", "reason": "sent"},
            {"kind": "exit", "id": "not_sent", "reason": "not_sent"},
        ],
        "edges": [
            {"source": "start", "target": "greet"},
            {"source": "greet", "target": "sent"},
            {"source": "greet", "target": "not_sent", "label": "failed"},
        ],
        "settings": {"timezone": "Asia/Shanghai"},
    }


async def _set(
    api: httpx.AsyncClient, tenant: TenantKeys, role: str = "operator", **input: Any
) -> Any:
    data = await gql(api, tenant, SET_CONSENT, {"input": input}, role=role)
    return data["setCustomerConsent"]


async def _lead(api: httpx.AsyncClient, tenant: TenantKeys, event_id: str, phone: str) -> str:
    answer = await post_events(api, tenant, [event(event_id, "lead.captured", {"phone": phone})])
    customer_id: str = answer["results"][0]["customer_id"]
    return customer_id


async def test_set_customer_consent_records_status_source_and_time(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    customer_id = await _lead(api, tenant, "l1", "13900000011")

    opted_out = await _set(
        api, tenant, customerId=customer_id, channel="sms", status="OPTED_OUT", source="sms_reply"
    )
    assert opted_out["__typename"] == "Customer"
    assert opted_out["consent"] == {"sms": False}
    [record] = opted_out["consents"]
    assert {k: record[k] for k in ("channel", "granted", "status", "source")} == {
        "channel": "sms",
        "granted": False,
        "status": "OPTED_OUT",
        "source": "sms_reply",
    }
    assert record["at"] is not None

    opted_in = await _set(api, tenant, customerId=customer_id, channel="email", status="OPTED_IN")
    assert [(c["channel"], c["status"], c["source"]) for c in opted_in["consents"]] == [
        ("email", "OPTED_IN", "api"),
        ("sms", "OPTED_OUT", "sms_reply"),
    ]

    search = """
    query($f: CustomerFilter) { customers(filter: $f) { totalCount nodes { id } } }
    """
    wanted = {"consent": [{"channel": "sms", "status": "OPTED_OUT"}]}
    found = await gql(api, tenant, search, {"f": wanted}, role="viewer")
    assert found["customers"] == {"totalCount": 1, "nodes": [{"id": customer_id}]}
    none = {"consent": [{"channel": "sms", "status": "OPTED_IN"}]}
    assert (await gql(api, tenant, search, {"f": none}, role="viewer"))["customers"]["nodes"] == []


async def test_bad_input_unknown_customers_and_other_roles_change_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    customer_id = await _lead(api, tenant, "l2", "13900000012")

    bad = await _set(api, tenant, customerId=customer_id, channel="SMS!", status="OPTED_OUT")
    assert bad == {
        "__typename": "InvalidInput",
        "errors": [{"path": "input.channel", "message": "must match ^[a-z][a-z0-9_]{0,31}$"}],
    }
    bad_source = await _set(
        api, tenant, customerId=customer_id, channel="sms", status="OPTED_OUT", source="x y"
    )
    assert [e["path"] for e in bad_source["errors"]] == ["input.source"]
    foreign = await _set(
        api, other_tenant, customerId=customer_id, channel="sms", status="OPTED_OUT"
    )
    assert foreign == {"__typename": "NotFound", "kind": "customer", "missingId": customer_id}
    designer = await _set(
        api, tenant, role="designer", customerId=customer_id, channel="sms", status="OPTED_OUT"
    )
    assert designer == {"__typename": "Forbidden", "requiredPermission": "manage_customers"}

    profile = await gql(
        api,
        tenant,
        "query($id: ID!) { customer(id: $id) { consents { channel } } }",
        {"id": customer_id},
        role="viewer",
    )
    assert profile["customer"]["consents"] == []


async def test_an_opted_out_customer_receives_nothing_and_an_opted_in_one_does(
    api: httpx.AsyncClient, tenant: TenantKeys, registry: ConnectorRegistry, workers: None
) -> None:
    sandbox = registry.get("sandbox")
    assert isinstance(sandbox, SandboxConnector)
    await published_journey(api, tenant, greeting_journey(), name="Greeting")
    refused = await _lead(api, tenant, "l3", "13900000013")
    agreed = await _lead(api, tenant, "l4", "13900000014")
    await _set(
        api, tenant, customerId=refused, channel="sandbox", status="OPTED_OUT", source="sms_reply"
    )
    await _set(api, tenant, customerId=agreed, channel="sandbox", status="OPTED_IN")

    signups = await post_events(
        api,
        tenant,
        [
            event("s3", "signup.completed", {"phone": "13900000013"}, {"plan": "pro"}),
            event("s4", "signup.completed", {"phone": "13900000014"}, {"plan": "pro"}),
        ],
    )
    ids = [r["enrollments"][0]["enrollment_id"] for r in signups["results"]]

    async def ended(enrollment_id: str) -> Any:
        data = await gql(api, tenant, ENROLLMENT, {"id": enrollment_id}, role="viewer")
        found = data["enrollment"]
        return found if found and found["status"] != "ACTIVE" else None

    skipped = await eventually(lambda: ended(ids[0]))
    delivered = await eventually(lambda: ended(ids[1]))

    assert (skipped["exitReason"], skipped["path"]) == ("not_sent", ["start", "greet", "not_sent"])
    [delivery] = skipped["deliveries"]["nodes"]
    assert (delivery["nodeId"], delivery["status"], delivery["attempts"]) == ("greet", "skipped", 0)
    assert delivery["error"].startswith("consent_opted_out: the customer opted out of sandbox")
    failures = [s["failure"] for s in skipped["history"]["steps"] if s["failure"]]
    assert any(f.startswith("consent_opted_out") for f in failures), failures

    assert delivered["exitReason"] == "sent"
    assert [d["status"] for d in delivered["deliveries"]["nodes"]] == ["succeeded"]
    # The connector was called for the opted-in customer only.
    assert [o.detail["text"] for o in sandbox.sent] == ["Hi 朋友, plan pro"]
