"""Bounce reports arrive signed with the tenant's webhook secret; the signature is checked
(computed here from the documented `<timestamp>.<body>` HMAC-SHA256) before the body is read."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from store.database import Store
from tests.api.support import TenantKeys, gql

ROTATE = (
    "mutation { rotateWebhookSecret(overlapHours: 0) { ... on WebhookSecretRotated { secret } } }"
)


async def _secret(api: httpx.AsyncClient, tenant: TenantKeys) -> str:
    data = await gql(api, tenant, ROTATE)
    secret: str = data["rotateWebhookSecret"]["secret"]
    return secret


def _signed(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {
        "X-Omnijourney-Timestamp": timestamp,
        "X-Omnijourney-Signature": f"sha256={digest.hexdigest()}",
        "Content-Type": "application/json",
    }


def _report(**changes: Any) -> bytes:
    report = {
        "id": "bnc-1",
        "recipient": "Lin@Shop.example",
        "kind": "hard",
        "message_id": "<abc@brand.example>",
        "reason": "550 5.1.1 user unknown",
        **changes,
    }
    return json.dumps(report).encode()


async def _bounces(store: Store, tenant_id: str) -> list[Any]:
    found = await store.db.events.find({"tenant_id": tenant_id, "type": "email.bounced"}).to_list()
    return found


async def test_a_signed_report_becomes_an_email_bounced_event_of_the_customer(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    secret = await _secret(api, tenant)
    body = _report()
    url = f"/v1/webhooks/email/{tenant.tenant_id}/bounces"
    response = await api.post(url, content=body, headers=_signed(secret, body))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "accepted"
    assert len(await _bounces(store, tenant.tenant_id)) == 1
    stored = await store.events.get(tenant.tenant_id, answer["event_id"])
    assert stored is not None and stored.type == "email.bounced"
    assert stored.identity == {"email": "lin@shop.example"}
    assert stored.properties == {
        "kind": "hard",
        "message_id": "<abc@brand.example>",
        "reason": "550 5.1.1 user unknown",
    }
    customer = await store.customers.get_by_identity(tenant.tenant_id, "email", "lin@shop.example")
    assert customer is not None and customer.id == answer["customer_id"]
    again = await api.post(url, content=body, headers=_signed(secret, body))
    assert again.json()["status"] == "duplicate"


async def test_unsigned_forged_stale_or_other_tenants_reports_are_refused_unread(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    secret = await _secret(api, tenant)
    other_secret = await _secret(api, other_tenant)
    body = _report()
    url = f"/v1/webhooks/email/{tenant.tenant_id}/bounces"
    signed = _signed(secret, body)
    cases = {
        "no headers": {"Content-Type": "application/json"},
        "wrong secret": _signed("whsec_guessed", body),
        "other tenant's secret": _signed(other_secret, body),
        "stale": _signed(secret, body, at=time.time() - 3600),
        "body changed": signed,
    }
    for name, headers in cases.items():
        content = body.replace(b"hard", b"soft") if name == "body changed" else body
        response = await api.post(url, content=content, headers=headers)
        assert response.status_code == 401, (name, response.text)
    # Not JSON at all, but badly signed: refused for the signature, not for the body.
    junk = await api.post(url, content=b"{not json", headers=_signed("whsec_guessed", b"{not json"))
    assert junk.status_code == 401
    # A tenant that never had a secret cannot be signed for.
    nobody = await api.post(
        "/v1/webhooks/email/no-such-tenant/bounces", content=body, headers=signed
    )
    assert nobody.status_code == 401
    assert await _bounces(store, tenant.tenant_id) == []


async def test_a_signed_but_malformed_report_is_refused_with_nothing_stored(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    secret = await _secret(api, tenant)
    url = f"/v1/webhooks/email/{tenant.tenant_id}/bounces"
    for body in (b"{not json", _report(kind="maybe"), _report(recipient="no-at-sign")):
        response = await api.post(url, content=body, headers=_signed(secret, body))
        assert response.status_code == 400, response.text
    assert await _bounces(store, tenant.tenant_id) == []
