"""Date waits and `exitUnless` through GraphQL: typed inputs saved as the domain reads them, and
their problems named per node."""

from __future__ import annotations

import httpx

from tests.api.support import TenantKeys, gql

CREATE_TYPED = """
mutation($typed: JourneyDefinitionInput!) {
  createJourney(input: {name: "Birthdays", typedDefinition: $typed}) {
    __typename
    ... on Journey { draft problems { code nodeId path } diagram }
  }
}
"""


def birthday(at: dict[str, object]) -> dict[str, object]:
    return {
        "nodes": [
            {"entry": {"id": "in"}},
            {
                "waitUntilDate": {
                    "id": "bday",
                    "attribute": "birthday",
                    "offset": "-P1D",
                    "at": at,
                    "yearly": True,
                }
            },
            {"exit": {"id": "greeted", "reason": "greeted"}},
            {"exit": {"id": "unknown", "reason": "no_birthday"}},
        ],
        "edges": [
            {"source": "in", "target": "bday"},
            {"source": "bday", "target": "greeted"},
            {"source": "bday", "target": "unknown", "label": "missing"},
        ],
        "settings": {
            "exitUnless": [{"tag": {"tag": "subscriber"}}],
            "exitUnlessReason": "unsubscribed",
        },
    }


async def test_a_date_wait_and_exit_unless_are_saved_as_typed(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    data = await gql(api, tenant, CREATE_TYPED, {"typed": birthday({"hour": 10})}, role="designer")

    created = data["createJourney"]
    assert created["problems"] == []
    node = created["draft"]["nodes"][1]
    assert node == {
        "kind": "wait_until_date",
        "id": "bday",
        "name": None,
        "attribute": "birthday",
        "offset": "-P1D",
        "at": {"hour": 10, "minute": 0, "weekdays": []},
        "yearly": True,
    }
    assert created["draft"]["settings"]["exit_unless"] == [
        {"type": "tag", "tag": "subscriber", "present": True}
    ]
    assert created["draft"]["settings"]["exit_unless_reason"] == "unsubscribed"
    assert "yearly birthday -1 day" in created["diagram"]


async def test_a_date_wait_on_weekdays_is_a_named_problem(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    typed = birthday({"hour": 10, "weekdays": [1]})

    data = await gql(api, tenant, CREATE_TYPED, {"typed": typed}, role="designer")

    assert data["createJourney"]["problems"] == [
        {"code": "invalid_field", "nodeId": "bday", "path": "at.weekdays"}
    ]
