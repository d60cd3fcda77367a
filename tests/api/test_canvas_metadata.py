"""Canvas metadata through GraphQL: given as typed input or JSON, stored with the draft and the
published version, returned as given, and a move on the canvas diffs as layout."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, UPDATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, gql

CREATE_TYPED = """
mutation($typed: JourneyDefinitionInput!) {
  createJourney(input: {name: "Canvas", typedDefinition: $typed}) {
    __typename
    ... on Journey { id revision draft problems { code } }
    ... on ValidationFailed { problems { code nodeId path } }
  }
}
"""

READ = """
query($id: ID!) {
  journey(id: $id) {
    draft
    version(number: 1) { definition }
    diagram
    layout: diff(from: 1) {
      ... on JourneyDiff { empty layoutChanged nodesChanged { nodeId } }
    }
  }
}
"""

UI = {"x": 40.0, "y": 80.5, "color": "#1677ff", "notes": "starts here", "data": {"w": 180}}


def _placed(definition: dict[str, Any]) -> dict[str, Any]:
    placed = copy.deepcopy(definition)
    for index, node in enumerate(placed["nodes"]):
        node["ui"] = {"x": float(index * 100), "y": 0.0, "color": None, "notes": None, "data": {}}
    return placed


async def test_typed_canvas_metadata_is_stored_and_returned_as_given(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    typed = {
        "nodes": [
            {"entry": {"id": "start", "ui": UI}},
            {"exit": {"id": "done", "ui": {"x": 300, "y": 80}}},
        ],
        "edges": [{"source": "start", "target": "done"}],
    }

    data = await gql(api, tenant, CREATE_TYPED, {"typed": typed}, role="designer")

    created = data["createJourney"]
    assert created["__typename"] == "Journey" and created["problems"] == []
    assert created["draft"]["nodes"][0]["ui"] == UI
    assert created["draft"]["nodes"][1]["ui"] == {
        "x": 300.0,
        "y": 80.0,
        "color": None,
        "notes": None,
        "data": {},
    }


async def test_published_versions_keep_canvas_metadata_and_a_move_is_layout(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    placed = _placed(welcome_journey())
    created = (
        await gql(api, tenant, CREATE_JOURNEY, {"input": {"name": "C", "definition": placed}})
    )["createJourney"]
    journey_id = created["id"]
    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id}, role="designer")
    assert published["publishJourney"]["__typename"] == "Journey"
    moved = copy.deepcopy(placed)
    moved["nodes"][1]["ui"]["x"] = 555.0
    moved["nodes"][1]["ui"]["notes"] = "moved"
    updated = await gql(
        api,
        tenant,
        UPDATE_JOURNEY,
        {"id": journey_id, "rev": created["revision"], "definition": moved},
        role="designer",
    )
    assert updated["updateJourney"]["problems"] == []

    journey = (await gql(api, tenant, READ, {"id": journey_id}, role="viewer"))["journey"]

    version_nodes = journey["version"]["definition"]["nodes"]
    assert [node["ui"] for node in version_nodes] == [node["ui"] for node in placed["nodes"]]
    assert journey["draft"]["nodes"][1]["ui"]["notes"] == "moved"
    assert journey["layout"] == {
        "empty": True,
        "layoutChanged": [placed["nodes"][1]["id"]],
        "nodesChanged": [],
    }
    assert "555" not in journey["diagram"] and "moved" not in journey["diagram"]


async def test_canvas_metadata_of_the_wrong_shape_is_a_named_problem(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    bad = welcome_journey()
    bad["nodes"][1]["ui"] = {"color": "x" * 33}

    data = await gql(api, tenant, CREATE_JOURNEY, {"input": {"name": "B", "definition": bad}})

    assert data["createJourney"]["problems"] == [
        {
            "code": "invalid_field",
            "nodeId": "welcome",
            "message": "node 'welcome', ui.color: String should have at most 32 characters",
            "path": "ui.color",
        }
    ]
