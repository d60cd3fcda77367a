"""The schema's descriptions of a transition's `seq` and a delivery's `idempotencyKey` say what
the workflow really records."""

from __future__ import annotations

import re
from typing import Any

import httpx

from api.graphql.schema import schema
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

STEPS = """
query($id: ID!) {
  enrollment(id: $id) {
    transitions { nodes { seq toNode } }
    deliveries { nodes { nodeId idempotencyKey } }
  }
}
"""


def _description(type_name: str, field: str) -> str:
    return schema._schema.type_map[type_name].fields[field].description or ""


async def test_steps_count_from_one_and_delivery_keys_name_enrollment_run_node_and_visit(
    api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    journey_id = await published_journey(api, tenant)
    signup = await post_events(
        api,
        tenant,
        [event("s1", "signup.completed", {"phone": "13900000071"}, {"plan": "pro"})],
    )
    [route] = signup["results"][0]["enrollments"]
    enrollment_id = route["enrollment_id"]
    assert route["journey_id"] == journey_id

    async def delivered() -> Any:
        data = await gql(api, tenant, STEPS, {"id": enrollment_id}, role="viewer")
        found = data["enrollment"]
        return found if found and found["deliveries"]["nodes"] else None

    found = await eventually(delivered)
    seqs = [t["seq"] for t in found["transitions"]["nodes"]]
    assert seqs[0] == 1
    assert seqs == list(range(1, len(seqs) + 1))
    [delivery] = found["deliveries"]["nodes"]
    key = delivery["idempotencyKey"]
    assert re.fullmatch(rf"{re.escape(enrollment_id)}:\d{{13}}:{delivery['nodeId']}:1", key)

    assert "1 for its first step" in _description("Transition", "seq")
    assert _description("Delivery", "idempotencyKey").startswith(
        "`<enrollment>:<run>:<node>:<visit>`"
    )
