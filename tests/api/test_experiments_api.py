"""Experiments through GraphQL: a split designed with typed inputs, its variants compared in
`journeyMetrics`, and the winner the sweep picks shown on the version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from api.services.experiments import ExperimentService
from store.database import Store
from tests.api.journeys import PUBLISH_JOURNEY
from tests.api.support import TenantKeys, gql
from tests.integration.test_store_metrics import Seed

CREATE = """
mutation($typed: JourneyDefinitionInput!) {
  createJourney(input: {name: "AB", typedDefinition: $typed}) {
    ... on Journey { id problems { code nodeId path } }
  }
}
"""

READ = """
query($id: ID!, $from: DateTime!, $to: DateTime!) {
  journeyMetrics(journeyId: $id, from: $from, to: $to) {
    ... on JourneyMetrics {
      experiments {
        nodeId controlId autoWinner winnerMinSample winnerAfterSeconds
        decision { variantId reason }
        variants {
          variantId weight holdout control enrollments converted revenue conversionRate
          revenuePerEnrollment lift pValue
        }
      }
    }
  }
  journey(id: $id) { version(number: 1) { experimentDecisions { nodeId variantId reason } } }
}
"""

TYPED = {
    "nodes": [
        {"entry": {"id": "in"}},
        {
            "split": {
                "id": "ab",
                "variants": [
                    {"id": "a", "weight": 45},
                    {"id": "b", "weight": 45},
                    {"id": "hold", "weight": 10, "holdout": True},
                ],
                "winner": {"minSample": 2, "after": "P14D"},
            }
        },
        {"exit": {"id": "end_a"}},
        {"exit": {"id": "end_b"}},
        {"exit": {"id": "end_hold"}},
    ],
    "edges": [
        {"source": "in", "target": "ab"},
        {"source": "ab", "target": "end_a", "label": "a"},
        {"source": "ab", "target": "end_b", "label": "b"},
        {"source": "ab", "target": "end_hold", "label": "hold"},
    ],
}


async def test_a_split_is_compared_with_its_holdout_and_its_winner_recorded(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    created = (await gql(api, tenant, CREATE, {"typed": TYPED}, role="designer"))["createJourney"]
    assert created["problems"] == []
    journey_id = created["id"]
    await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id}, role="designer")
    now = datetime.now(UTC)
    seed = Seed(store, tenant.tenant_id)
    outcomes = [("a", True), ("a", False), ("b", True), ("b", True), ("hold", False)]
    for index, (variant, converts) in enumerate(outcomes):
        customer = await seed.customer(now)
        path = [(None, "in", "start"), ("in", "ab", "next"), ("ab", f"end_{variant}", variant)]
        await seed.enrollment(
            customer,
            now + timedelta(seconds=index + 1),
            path,
            journey_id=journey_id,
            converted_after=timedelta(minutes=5) if converts else None,
        )
    window = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    [experiment] = (await gql(api, tenant, READ, {"id": journey_id, **window}, role="viewer"))[
        "journeyMetrics"
    ]["experiments"]

    assert experiment["controlId"] == "hold"
    assert (experiment["autoWinner"], experiment["winnerMinSample"]) == (True, 2)
    assert experiment["winnerAfterSeconds"] == 14 * 86400
    assert experiment["decision"] is None
    a, b, hold = experiment["variants"]
    assert (a["enrollments"], a["converted"], a["conversionRate"]) == (2, 1, 0.5)
    assert (b["enrollments"], b["converted"], b["conversionRate"]) == (2, 2, 1.0)
    assert (hold["control"], hold["enrollments"], hold["lift"], hold["pValue"]) == (
        True,
        1,
        None,
        None,
    )
    assert a["lift"] is None  # the control converted nobody: no lift to speak of
    assert 0 < a["pValue"] <= 1

    decided = await ExperimentService(store, lambda: now + timedelta(minutes=10)).decide_due()
    after = await gql(api, tenant, READ, {"id": journey_id, **window}, role="viewer")

    assert decided == 1
    assert after["journeyMetrics"]["experiments"][0]["decision"] == {
        "variantId": "b",
        "reason": "SAMPLE",
    }
    assert after["journey"]["version"]["experimentDecisions"] == [
        {"nodeId": "ab", "variantId": "b", "reason": "SAMPLE"}
    ]
