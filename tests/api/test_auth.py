"""API keys: 401 without a valid key, 403 when the role may not, and no secret ever echoed."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from store.database import Store
from tests.api.support import TenantKeys, event, gql

CREATE = """
mutation($input: CreateJourneyInput!) {
  createJourney(input: $input) {
    __typename
    ... on Journey { id name }
    ... on Forbidden { requiredPermission message }
  }
}
"""


async def test_events_without_a_key_are_unauthenticated(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/events", json={"events": []})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_events_with_an_unknown_key_are_unauthenticated(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    forged = tenant.keys["admin"][:-4] + "abcd"
    response = await api.post(
        "/v1/events", json={"events": []}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert forged not in response.text


async def test_a_revoked_key_no_longer_authenticates(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    key = await store.tenants.authenticate(tenant.keys["operator"])
    assert key is not None
    await store.tenants.revoke_api_key(tenant.tenant_id, key.id, datetime.now(UTC))
    response = await api.post(
        "/v1/events",
        json={"events": [event("e1", "order.paid", {"phone": "13800138000"})]},
        headers=tenant.auth("operator"),
    )
    assert response.status_code == 401


async def test_a_viewer_key_may_not_ingest_events(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/v1/events",
        json={"events": [event("e1", "order.paid", {"phone": "13800138000"})]},
        headers=tenant.auth("viewer"),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_a_designer_key_may_not_ingest_events(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/v1/events",
        json={"events": [event("e1", "order.paid", {"phone": "13800138000"})]},
        headers=tenant.auth("designer"),
    )
    assert response.status_code == 403


async def test_graphql_without_a_key_answers_401_before_executing(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/graphql", json={"query": "{ journeyTemplates { key } }"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_graphql_with_a_malformed_authorization_header_answers_401(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/graphql",
        json={"query": "{ journeyTemplates { key } }"},
        headers={"Authorization": tenant.keys["admin"]},  # no scheme
    )
    assert response.status_code == 401


async def test_the_graphiql_page_opens_without_a_key(api: httpx.AsyncClient) -> None:
    response = await api.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_a_viewer_may_read_but_not_create_journeys(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    data = await gql(api, tenant, "{ journeys { nodes { id } } }", role="viewer")
    assert data["journeys"]["nodes"] == []
    data = await gql(api, tenant, CREATE, {"input": {"name": "Spring"}}, role="viewer")
    result = data["createJourney"]
    assert result["__typename"] == "Forbidden"
    assert result["requiredPermission"] == "edit_journeys"


async def test_an_operator_may_not_edit_journeys_but_a_designer_may(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    denied = await gql(api, tenant, CREATE, {"input": {"name": "Spring"}}, role="operator")
    assert denied["createJourney"]["__typename"] == "Forbidden"
    allowed = await gql(api, tenant, CREATE, {"input": {"name": "Spring"}}, role="designer")
    assert allowed["createJourney"]["__typename"] == "Journey"


async def test_a_designer_may_not_ingest_events_through_graphql(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = """
    mutation($events: [EventInput!]!) {
      ingestEvents(events: $events) { __typename ... on Forbidden { requiredPermission } }
    }
    """
    variables = {
        "events": [
            {
                "id": "e1",
                "type": "order.paid",
                "identities": [{"kind": "phone", "value": "13800138000"}],
                "timestamp": "2026-03-01T10:00:00+08:00",
            }
        ]
    }
    data = await gql(api, tenant, query, variables, role="designer")
    assert data["ingestEvents"] == {
        "__typename": "Forbidden",
        "requiredPermission": "ingest_events",
    }


async def test_health_reports_mongodb_and_temporal(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"mongodb": "ok", "temporal": "ok"}}
