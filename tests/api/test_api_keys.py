"""Managing API keys over GraphQL: admins list, issue and revoke their tenant's keys; secrets are
shown once; expired and revoked keys authenticate as nothing; last use is recorded a minute at
a time; other tenants' keys are not found; the last admin key is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from store.database import Store
from tests.api.support import TenantKeys, gql

KEYS = """
query($revoked: Boolean! = true) {
  apiKeys(includeRevoked: $revoked) {
    id name role prefix createdAt expiresAt lastUsedAt revokedAt usable
  }
}
"""
CREATE_KEY = """
mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    __typename
    ... on CreatedApiKey { secret apiKey { id name role prefix expiresAt usable } }
    ... on InvalidInput { errors { path message } }
    ... on Forbidden { requiredPermission }
  }
}
"""
REVOKE_KEY = """
mutation($id: ID!) {
  revokeApiKey(id: $id) {
    __typename
    ... on ApiKey { id revokedAt usable }
    ... on NotFound { kind missing: id }
    ... on Conflict { message }
    ... on Forbidden { requiredPermission }
  }
}
"""
PING = "{ journeys { totalCount } }"


async def _keys(api: httpx.AsyncClient, tenant: TenantKeys, role: str = "admin") -> Any:
    return (await gql(api, tenant, KEYS, role=role))["apiKeys"]


async def _status(api: httpx.AsyncClient, raw_key: str) -> int:
    response = await api.post(
        "/graphql", json={"query": PING}, headers={"Authorization": f"Bearer {raw_key}"}
    )
    return response.status_code


async def _key_id(store: Store, raw_key: str) -> str:
    key = await store.tenants.authenticate(raw_key)
    assert key is not None
    return key.id


async def test_an_admin_lists_the_tenants_keys_without_any_secret(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post("/graphql", json={"query": KEYS}, headers=tenant.auth())
    listed = response.json()["data"]["apiKeys"]

    assert sorted(key["role"] for key in listed) == ["ADMIN", "DESIGNER", "OPERATOR", "VIEWER"]
    assert all(key["usable"] and key["revokedAt"] is None for key in listed)
    for raw in tenant.keys.values():
        assert raw not in response.text
        assert raw.split("_", 2)[2] not in response.text
        assert raw.split("_", 2)[1] in {key["prefix"] for key in listed}


async def test_only_admin_keys_see_or_manage_keys(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    target = await _key_id(store, tenant.keys["viewer"])
    for role in ("designer", "operator", "viewer"):
        assert await _keys(api, tenant, role) is None, role
        created = await gql(
            api, tenant, CREATE_KEY, {"input": {"name": "x", "role": "ADMIN"}}, role=role
        )
        assert created["createApiKey"] == {
            "__typename": "Forbidden",
            "requiredPermission": "manage_api_keys",
        }
        revoked = await gql(api, tenant, REVOKE_KEY, {"id": target}, role=role)
        assert revoked["revokeApiKey"]["__typename"] == "Forbidden"
    assert len(await _keys(api, tenant)) == 4
    assert await _status(api, tenant.keys["viewer"]) == 200


async def test_a_created_key_is_shown_once_and_then_works(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await gql(
        api, tenant, CREATE_KEY, {"input": {"name": "ops console", "role": "OPERATOR"}}
    )
    result = created["createApiKey"]
    assert result["__typename"] == "CreatedApiKey"
    secret = result["secret"]
    assert secret.startswith(f"oj_{result['apiKey']['prefix']}_")
    assert await _status(api, secret) == 200

    response = await api.post("/graphql", json={"query": KEYS}, headers=tenant.auth())
    assert result["apiKey"]["id"] in response.text
    assert secret not in response.text


async def test_an_expiry_must_be_in_the_future(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    created = await gql(
        api, tenant, CREATE_KEY, {"input": {"name": "late", "role": "VIEWER", "expiresAt": past}}
    )
    assert created["createApiKey"]["__typename"] == "InvalidInput"
    assert created["createApiKey"]["errors"][0]["path"] == "input.expiresAt"
    assert len(await _keys(api, tenant)) == 4

    future = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    created = await gql(
        api,
        tenant,
        CREATE_KEY,
        {"input": {"name": "month", "role": "VIEWER", "expiresAt": future.isoformat()}},
    )
    key = created["createApiKey"]["apiKey"]
    assert datetime.fromisoformat(key["expiresAt"]) == future
    assert key["usable"] is True
    assert await _status(api, created["createApiKey"]["secret"]) == 200


async def test_an_expired_key_authenticates_as_nothing(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    issued = datetime.now(UTC) - timedelta(hours=2)
    key, raw = await store.tenants.create_api_key(
        tenant.tenant_id, "temporary", "admin", issued, expires_at=issued + timedelta(hours=1)
    )

    assert await _status(api, raw) == 401
    events = await api.post(
        "/v1/events", json={"events": []}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert events.status_code == 401
    listed = {item["id"]: item for item in await _keys(api, tenant)}
    assert listed[key.id]["usable"] is False
    assert listed[key.id]["revokedAt"] is None


async def test_a_revoked_key_answers_401_and_is_listed_as_revoked(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    target = await _key_id(store, tenant.keys["operator"])
    revoked = await gql(api, tenant, REVOKE_KEY, {"id": target})
    assert revoked["revokeApiKey"]["__typename"] == "ApiKey"
    assert revoked["revokeApiKey"]["usable"] is False
    again = await gql(api, tenant, REVOKE_KEY, {"id": target})
    assert again["revokeApiKey"]["revokedAt"] == revoked["revokeApiKey"]["revokedAt"]

    assert await _status(api, tenant.keys["operator"]) == 401
    assert [k["id"] for k in await _keys(api, tenant, "admin") if k["revokedAt"]] == [target]
    active = (await gql(api, tenant, KEYS, {"revoked": False}))["apiKeys"]
    assert target not in {k["id"] for k in active}


async def test_another_tenants_key_is_not_found_and_not_listed(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    theirs = await _key_id(store, other_tenant.keys["admin"])
    revoked = await gql(api, tenant, REVOKE_KEY, {"id": theirs})
    assert revoked["revokeApiKey"] == {
        "__typename": "NotFound",
        "kind": "api key",
        "missing": theirs,
    }
    assert theirs not in {key["id"] for key in await _keys(api, tenant)}
    assert await _status(api, other_tenant.keys["admin"]) == 200


async def test_the_last_usable_admin_key_cannot_be_revoked_but_a_key_may_revoke_itself(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    own = await _key_id(store, tenant.keys["admin"])
    refused = await gql(api, tenant, REVOKE_KEY, {"id": own})
    assert refused["revokeApiKey"]["__typename"] == "Conflict"
    assert "last usable admin key" in refused["revokeApiKey"]["message"]
    assert await _status(api, tenant.keys["admin"]) == 200

    # An expired admin key does not count as a way back in.
    issued = datetime.now(UTC) - timedelta(hours=2)
    await store.tenants.create_api_key(
        tenant.tenant_id, "old admin", "admin", issued, expires_at=issued + timedelta(hours=1)
    )
    still = await gql(api, tenant, REVOKE_KEY, {"id": own})
    assert still["revokeApiKey"]["__typename"] == "Conflict"

    await gql(api, tenant, CREATE_KEY, {"input": {"name": "second admin", "role": "ADMIN"}})
    itself = await gql(api, tenant, REVOKE_KEY, {"id": own})
    assert itself["revokeApiKey"]["__typename"] == "ApiKey"
    assert await _status(api, tenant.keys["admin"]) == 401


async def test_last_use_is_recorded_at_most_once_a_minute(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    created = await gql(api, tenant, CREATE_KEY, {"input": {"name": "probe", "role": "VIEWER"}})
    key_id = created["createApiKey"]["apiKey"]["id"]
    secret = created["createApiKey"]["secret"]

    def last_used(keys: list[dict[str, Any]]) -> str | None:
        return next(k["lastUsedAt"] for k in keys if k["id"] == key_id)

    assert last_used(await _keys(api, tenant)) is None
    assert await _status(api, secret) == 200
    first = last_used(await _keys(api, tenant))
    assert first is not None
    assert await _status(api, secret) == 200
    assert last_used(await _keys(api, tenant)) == first  # the second use wrote nothing

    key = await store.tenants.authenticate(secret)
    assert key is not None
    later = key.last_used_at + timedelta(minutes=1)  # type: ignore[operator]
    await store.tenants.touch(key, later)
    assert datetime.fromisoformat(last_used(await _keys(api, tenant)) or "") == later
