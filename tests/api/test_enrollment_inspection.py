"""Inspecting an enrollment: where it is, what it waits for, and its Temporal history as steps.

Real Temporal dev server, real workers with the sandbox channel, real MongoDB; the renderer's
rarer paths are told from recorded histories in tests/unit/test_history_rendering.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, event, eventually, gql, post_events, project_enrollment
from tests.unit.test_history_rendering import UI
from tests.unit.test_history_rendering import step_of as _step

INSPECT = """
query($id: ID!, $raw: Boolean!) {
  enrollment(id: $id) {
    id status currentNode path nextWakeUpAt waitingForEvent startedAt temporalUiUrl
    customer { id identities { kind value } }
    deliveries { nodes { nodeId channel action status attempts } }
    history(includeRawEvents: $raw) {
      __typename
      ... on EnrollmentHistory {
        workflowId runId continuedFromRunId namespace eventCount temporalUiUrl rawEvents
        steps { eventId at kind summary activity attempt failure }
      }
      ... on HistoryUnavailable { message }
    }
  }
}
"""


@pytest.fixture
async def inspect_api(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, temporal_env.client, registry, temporal_ui_url=UI)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _inspect(
    api: httpx.AsyncClient, tenant: TenantKeys, enrollment_id: str, raw: bool = False
) -> Any:
    data = await gql(api, tenant, INSPECT, {"id": enrollment_id, "raw": raw}, role="viewer")
    return data["enrollment"]


async def _waiting_enrollment(api: httpx.AsyncClient, tenant: TenantKeys) -> tuple[str, str, Any]:
    created = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "Welcome", "definition": welcome_journey()}}
    )
    journey_id = created["createJourney"]["id"]
    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id})
    assert published["publishJourney"]["__typename"] == "Journey"
    identity = {"phone": "13900000011"}
    body = await post_events(
        api, tenant, [event("s1", "signup.completed", identity, {"plan": "pro"})]
    )
    [route] = body["results"][0]["enrollments"]
    enrollment_id = route["enrollment_id"]

    async def waiting() -> Any:
        found = await _inspect(api, tenant, enrollment_id)
        if not found or found["currentNode"] != "await_order":
            return None
        kinds = {step["kind"] for step in found["history"].get("steps", [])}
        return found if "TIMER_STARTED" in kinds else None

    return journey_id, enrollment_id, await eventually(waiting)


async def test_a_waiting_enrollment_shows_where_it_is_and_what_wakes_it(
    inspect_api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    _, enrollment_id, found = await _waiting_enrollment(inspect_api, tenant)

    assert found["status"] == "ACTIVE"
    assert found["path"][-2:] == ["welcome", "await_order"]
    assert found["waitingForEvent"] == "order.paid"
    started = datetime.fromisoformat(found["startedAt"])
    wake_up = datetime.fromisoformat(found["nextWakeUpAt"])
    assert started < wake_up <= started + timedelta(seconds=61)
    assert found["customer"]["identities"] == [{"kind": "phone", "value": "13900000011"}]
    assert found["deliveries"]["nodes"] == [
        {
            "nodeId": "welcome",
            "channel": "sandbox",
            "action": "send_message",
            "status": "succeeded",
            "attempts": 1,
        }
    ]
    assert found["temporalUiUrl"] == f"{UI}/namespaces/default/workflows/" + quote(
        enrollment_id, safe=""
    )


async def test_history_tells_the_workflow_as_readable_steps_until_it_ends(
    inspect_api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    _, enrollment_id, found = await _waiting_enrollment(inspect_api, tenant)
    history = found["history"]
    assert history["__typename"] == "EnrollmentHistory"
    assert history["workflowId"] == enrollment_id
    assert history["rawEvents"] is None
    steps = history["steps"]
    assert steps[0]["kind"] == "WORKFLOW_STARTED"
    assert [s["eventId"] for s in steps] == sorted(s["eventId"] for s in steps)
    action = "channel.sandbox.send_message (node welcome)"
    assert _step(steps, "ACTIVITY_SCHEDULED", action)["activity"] == action
    sent = _step(steps, "ACTIVITY_COMPLETED", action)
    assert sent["attempt"] == 1
    assert sent["summary"].endswith("completed on attempt 1: delivery succeeded")
    _step(steps, "STATE_RECORDED", "now at node await_order (active)")
    assert _step(steps, "TIMER_STARTED")["summary"].startswith("timer started: ")
    assert history["temporalUiUrl"] == (
        f"{UI}/namespaces/default/workflows/{quote(enrollment_id, safe='')}/"
        f"{history['runId']}/history"
    )

    await post_events(inspect_api, tenant, [event("o1", "order.paid", {"phone": "13900000011"})])

    async def ended() -> Any:
        now = await _inspect(inspect_api, tenant, enrollment_id, raw=True)
        kinds = [step["kind"] for step in now["history"].get("steps", [])]
        # The projection is read before the history in one query: wait for both to show the end.
        return now if "WORKFLOW_COMPLETED" in kinds and now["status"] != "ACTIVE" else None

    done = await eventually(ended)
    assert done["status"] == "EXITED"
    assert done["nextWakeUpAt"] is None and done["waitingForEvent"] is None
    steps = done["history"]["steps"]
    _step(steps, "SIGNAL_RECEIVED", "signal event received: order.paid (event o1)")
    _step(steps, "TIMER_CANCELLED", "the wait ended early")
    assert steps[-1]["summary"] == "workflow completed: exited (bought)"
    raw = done["history"]["rawEvents"]
    assert len(raw) == done["history"]["eventCount"]
    assert raw[0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"


async def test_an_enrollment_without_a_workflow_says_its_history_is_unavailable(
    inspect_api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    now = datetime.now(UTC)
    enrollment_id = await project_enrollment(store, tenant.tenant_id, "jrn_gone", "cus_gone", now)
    found = await _inspect(inspect_api, tenant, enrollment_id)
    assert found["history"]["__typename"] == "HistoryUnavailable"
    assert "retention" in found["history"]["message"]
    assert found["customer"] is None


async def test_enrollments_are_listed_by_journey_version_node_and_status(
    inspect_api: httpx.AsyncClient, tenant: TenantKeys, workers: None
) -> None:
    journey_id, enrollment_id, _ = await _waiting_enrollment(inspect_api, tenant)
    query = """
    query($filter: EnrollmentFilter) {
      enrollments(filter: $filter) { totalCount edges { cursor node { id } } }
    }
    """

    async def listed(**filter: Any) -> list[str]:
        data = await gql(inspect_api, tenant, query, {"filter": filter}, role="viewer")
        found = data["enrollments"]
        assert found["totalCount"] == len(found["edges"])
        return [edge["node"]["id"] for edge in found["edges"]]

    assert await listed(journeyId=journey_id) == [enrollment_id]
    assert await listed(journeyId=journey_id, nodeId="await_order", status=["ACTIVE"]) == [
        enrollment_id
    ]
    assert await listed(journeyId=journey_id, version=1) == [enrollment_id]
    assert await listed(journeyId=journey_id, version=2) == []
    assert await listed(journeyId=journey_id, nodeId="bought") == []
    assert await listed(status=["PAUSED", "EXITED"]) == []
