"""`rotateWebhookSecret` and `webhookSettings`: admins only, the secret shown once, never read."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from api.graphql.schema import schema
from store.database import Store
from tests.api.support import TenantKeys, gql

ROTATE = """
mutation($hours: Int!) {
  rotateWebhookSecret(overlapHours: $hours) {
    __typename
    ... on WebhookSecretRotated {
      secret
      settings { secretSet createdAt previousSecretValidUntil }
    }
    ... on InvalidInput { errors { path message } }
    ... on Forbidden { requiredPermission }
  }
}
"""
SETTINGS = "{ webhookSettings { secretSet createdAt previousSecretValidUntil } }"


async def rotate(api: httpx.AsyncClient, tenant: TenantKeys, hours: int = 24) -> dict[str, Any]:
    data = await gql(api, tenant, ROTATE, {"hours": hours})
    result: dict[str, Any] = data["rotateWebhookSecret"]
    return result


async def test_a_rotation_answers_a_new_secret_once_and_settings_never_show_it(
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = await gql(api, tenant, SETTINGS)
    assert before["webhookSettings"] == {
        "secretSet": False,
        "createdAt": None,
        "previousSecretValidUntil": None,
    }

    first = await rotate(api, tenant)
    second = await rotate(api, tenant, hours=2)

    assert first["__typename"] == second["__typename"] == "WebhookSecretRotated"
    assert first["secret"].startswith("whsec_") and second["secret"].startswith("whsec_")
    assert first["secret"] != second["secret"]
    assert first["secret"] not in str(second)  # the replaced secret is not answered again
    created = datetime.fromisoformat(second["settings"]["createdAt"])
    until = datetime.fromisoformat(second["settings"]["previousSecretValidUntil"])
    assert until - created == timedelta(hours=2)
    assert first["settings"]["previousSecretValidUntil"] is None  # it replaced no secret

    shown = await api.post("/graphql", json={"query": SETTINGS}, headers=tenant.auth())
    assert shown.json()["data"]["webhookSettings"] == {**second["settings"], "secretSet": True}
    for secret in (first["secret"], second["secret"]):
        assert secret not in shown.text
        assert secret not in caplog.text
    # Both sign during the overlap: the store holds the pair the mutation made.
    held = await store.webhook_secrets.signing_secrets(tenant.tenant_id, created)
    assert [s.get_secret_value() for s in held.valid_at(created)] == [
        second["secret"],
        first["secret"],
    ]


def test_webhook_settings_has_no_field_that_could_hold_the_secret() -> None:
    settings_type = schema._schema.type_map["WebhookSettings"]
    assert set(settings_type.fields) == {  # type: ignore[attr-defined] # an object type
        "secretSet",
        "createdAt",
        "previousSecretValidUntil",
    }


@pytest.mark.parametrize("role", ["designer", "operator", "viewer"])
async def test_only_admins_rotate_or_read_the_webhook_secret(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, role: str
) -> None:
    data = await gql(api, tenant, ROTATE, {"hours": 1}, role=role)
    assert data["rotateWebhookSecret"] == {
        "__typename": "Forbidden",
        "requiredPermission": "manage_channels",
    }
    assert await store.webhook_secrets.info(tenant.tenant_id) is None
    await rotate(api, tenant)
    assert (await gql(api, tenant, SETTINGS, role=role))["webhookSettings"] is None


@pytest.mark.parametrize("hours", [-1, 169])
async def test_an_overlap_outside_zero_to_a_week_is_refused(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, hours: int
) -> None:
    result = await rotate(api, tenant, hours=hours)

    assert result["__typename"] == "InvalidInput"
    assert result["errors"] == [
        {"path": "overlapHours", "message": "must be between 0 and 168 hours"}
    ]
    assert await store.webhook_secrets.info(tenant.tenant_id) is None


async def test_a_rotation_stays_in_its_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    rotated = await rotate(api, tenant)

    theirs = await api.post("/graphql", json={"query": SETTINGS}, headers=other_tenant.auth())

    assert theirs.json()["data"]["webhookSettings"]["secretSet"] is False
    assert rotated["secret"] not in theirs.text
