"""Journeys whose message templates cannot work are shown their problems on the draft and
refused at publication, every problem named by node and field."""

from __future__ import annotations

import httpx

from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, gql


async def test_template_problems_are_named_per_node_and_block_publication(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    definition = welcome_journey()
    [welcome] = [n for n in definition["nodes"] if n["id"] == "welcome"]
    welcome["params"] = {"text": "Hi {{ custmer.attributes.nickname }} {{ customer.id | upcasse }}"}
    created = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "Broken", "definition": definition}}
    )
    journey = created["createJourney"]
    found = [(p["code"], p["nodeId"], p["path"]) for p in journey["problems"]]
    assert found == [
        ("unknown_template_filter", "welcome", "params.text"),
        ("unknown_template_variable", "welcome", "params.text"),
    ]
    assert "`custmer`" in journey["problems"][1]["message"]

    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey["id"]})
    assert published["publishJourney"]["__typename"] == "ValidationFailed"
    assert [p["code"] for p in published["publishJourney"]["problems"]] == [
        "unknown_template_filter",
        "unknown_template_variable",
    ]
