"""Designing journeys through GraphQL: create, validate, update, publish; templates, channels."""

from __future__ import annotations

import httpx

from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, UPDATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, gql


def _broken_journey() -> dict[str, object]:
    definition = welcome_journey()
    nodes = definition["nodes"]
    assert isinstance(nodes, list)
    nodes[1] = {**nodes[1], "channel": "carrier_pigeon"}
    nodes.append({"kind": "wait", "id": "orphan", "duration": "PT5M"})
    return definition


async def test_validate_journey_names_every_problem(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = """
    query($d: JSON!) {
      validateJourney(source: {definition: $d}) {
        __typename ... on ValidationReport { valid problems { code nodeId message path } }
      }
    }
    """
    data = await gql(api, tenant, query, {"d": _broken_journey()}, role="viewer")
    report = data["validateJourney"]
    assert report["valid"] is False
    problems = {(p["code"], p["nodeId"]) for p in report["problems"]}
    assert ("unknown_channel", "welcome") in problems
    assert ("unreachable_node", "orphan") in problems
    assert ("missing_edge", "orphan") in problems
    valid = await gql(api, tenant, query, {"d": welcome_journey()}, role="viewer")
    assert valid["validateJourney"] == {
        "__typename": "ValidationReport",
        "valid": True,
        "problems": [],
    }


async def test_a_definition_that_does_not_parse_is_reported_field_by_field(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    definition = {"nodes": [{"kind": "wait_for_event", "id": "w", "event_type": "x"}]}
    data = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "N", "definition": definition}}
    )
    result = data["createJourney"]
    assert result["__typename"] == "ValidationFailed"
    assert result["problems"] == [
        {
            "code": "invalid_field",
            "nodeId": "w",
            "message": result["problems"][0]["message"],
            "path": "timeout",
        }
    ]


async def test_create_validate_publish_and_version_a_journey(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await gql(
        api,
        tenant,
        CREATE_JOURNEY,
        {"input": {"name": "Welcome", "definition": _broken_journey()}},
        role="designer",
    )
    journey = created["createJourney"]
    assert journey["__typename"] == "Journey"
    assert journey["status"] == "DRAFT"
    assert {p["code"] for p in journey["problems"]} >= {"unknown_channel", "unreachable_node"}

    refused = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey["id"]}, role="designer")
    assert refused["publishJourney"]["__typename"] == "ValidationFailed"
    assert {p["nodeId"] for p in refused["publishJourney"]["problems"]} >= {"welcome", "orphan"}

    stale = await gql(
        api,
        tenant,
        UPDATE_JOURNEY,
        {"id": journey["id"], "rev": journey["revision"] + 5, "definition": welcome_journey()},
        role="designer",
    )
    assert stale["updateJourney"]["__typename"] == "Conflict"

    fixed = await gql(
        api,
        tenant,
        UPDATE_JOURNEY,
        {"id": journey["id"], "rev": journey["revision"], "definition": welcome_journey()},
        role="designer",
    )
    assert fixed["updateJourney"]["__typename"] == "Journey"
    assert fixed["updateJourney"]["problems"] == []

    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey["id"]}, role="designer")
    live = published["publishJourney"]
    assert live["__typename"] == "Journey"
    assert (live["status"], live["liveVersion"]) == ("PUBLISHED", 1)
    assert live["versions"] == [
        {
            "version": 1,
            "listenedEventTypes": [
                "order.paid",
                "wecom.contact_deleted_by_customer",
                "wecom.contact_deleted_by_staff",
            ],
        }
    ]

    listed = await gql(
        api, tenant, "{ journeys(first: 5) { nodes { id status } pageInfo { hasNextPage } } }"
    )
    assert listed["journeys"] == {
        "nodes": [{"id": journey["id"], "status": "PUBLISHED"}],
        "pageInfo": {"hasNextPage": False},
    }


async def test_publishing_an_unknown_journey_is_not_found(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    data = await gql(api, tenant, PUBLISH_JOURNEY, {"id": "jrn_missing"})
    assert data["publishJourney"]["__typename"] == "NotFound"


async def test_a_journey_from_the_canonical_template_is_publishable(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    templates = await gql(api, tenant, "{ journeyTemplates { key name definition } }")
    keys = [t["key"] for t in templates["journeyTemplates"]]
    assert "douyin-wecom-repurchase" in keys
    query = """
    mutation($key: String!, $name: String!) {
      createJourneyFromTemplate(key: $key, name: $name) {
        __typename ... on Journey { id problems { code } }
      }
    }
    """
    data = await gql(api, tenant, query, {"key": "douyin-wecom-repurchase", "name": "Spring"})
    journey = data["createJourneyFromTemplate"]
    assert journey["problems"] == []
    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey["id"]})
    assert published["publishJourney"]["__typename"] == "Journey"
    missing = await gql(api, tenant, query, {"key": "no-such-template", "name": "X"})
    assert missing["createJourneyFromTemplate"]["__typename"] == "NotFound"


async def test_channels_list_actions_with_their_params_schemas(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    data = await gql(api, tenant, "{ channels { channel action description paramsSchema } }")
    by_action = {(c["channel"], c["action"]): c for c in data["channels"]}
    send = by_action[("sandbox", "send_message")]
    assert "text" in send["paramsSchema"]["properties"]


async def test_a_bad_cursor_is_a_client_error_not_a_server_error(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/graphql",
        json={"query": '{ journeys(after: "%%%") { nodes { id } } }'},
        headers=tenant.auth(),
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cursor" in errors[0]["message"]
