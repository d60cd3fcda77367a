"""A re-entered enrollment over GraphQL: the latest run's fields and steps, earlier runs kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from domain.enrollments import Enrollment, Transition
from store.database import Store
from tests.api.support import TenantKeys, gql

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=3)

QUERY = """
query($id: ID!) {
  enrollment(id: $id) {
    status exitReason startedAt
    transitions { nodes { seq toNode } }
    previousRuns(first: 5) {
      pageInfo { hasNextPage }
      nodes {
        enrollmentId status exitReason path startedAt endedAt
        transitions { nodes { seq toNode } }
      }
    }
  }
}
"""


async def _run(store: Store, enrollment: Enrollment, nodes: list[str]) -> None:
    await store.enrollments.record_transitions(
        [
            Transition(
                tenant_id=enrollment.tenant_id,
                enrollment_id=enrollment.id,
                journey_id=enrollment.journey_id,
                version=1,
                customer_id=enrollment.customer_id,
                seq=seq,
                run_started_at=enrollment.started_at,
                to_node=node,
                label="next",
                at=enrollment.started_at + timedelta(minutes=seq),
            )
            for seq, node in enumerate(nodes)
        ]
    )
    await store.enrollments.upsert_projection(enrollment)


async def test_an_enrollment_shows_its_latest_run_and_lists_the_earlier_ones(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    enrollment_id = f"{tenant.tenant_id}:jrn_1:cus_1"
    first = Enrollment(
        id=enrollment_id,
        tenant_id=tenant.tenant_id,
        journey_id="jrn_1",
        version=1,
        customer_id="cus_1",
        status="exited",
        current_node="lapsed",
        path=["entry", "buy", "lapsed"],
        exit_reason="lapsed",
        started_at=T0,
        updated_at=T0 + timedelta(minutes=3),
        ended_at=T0 + timedelta(minutes=3),
        seq=3,
    )
    await _run(store, first, ["entry", "buy", "lapsed"])
    second = first.model_copy(
        update={
            "status": "active",
            "current_node": "buy",
            "path": ["entry", "buy"],
            "exit_reason": None,
            "started_at": T1,
            "updated_at": T1,
            "ended_at": None,
            "seq": 2,
        }
    )
    await _run(store, second, ["entry", "buy"])

    data = await gql(api, tenant, QUERY, {"id": enrollment_id}, role="viewer")
    foreign = await gql(api, other_tenant, QUERY, {"id": enrollment_id}, role="viewer")

    found = data["enrollment"]
    assert (found["status"], found["exitReason"]) == ("ACTIVE", None)
    assert found["startedAt"] == T1.isoformat()
    assert [t["toNode"] for t in found["transitions"]["nodes"]] == ["entry", "buy"]
    runs = found["previousRuns"]
    assert runs["pageInfo"]["hasNextPage"] is False
    assert runs["nodes"] == [
        {
            "enrollmentId": enrollment_id,
            "status": "EXITED",
            "exitReason": "lapsed",
            "path": ["entry", "buy", "lapsed"],
            "startedAt": T0.isoformat(),
            "endedAt": (T0 + timedelta(minutes=3)).isoformat(),
            "transitions": {
                "nodes": [
                    {"seq": 0, "toNode": "entry"},
                    {"seq": 1, "toNode": "buy"},
                    {"seq": 2, "toNode": "lapsed"},
                ]
            },
        }
    ]
    assert foreign["enrollment"] is None
