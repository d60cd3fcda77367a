"""Subscriptions over `graphql-transport-ws` against the live server (uvicorn on 127.0.0.1), with
a real websocket client: authentication at `connection_init`, live transitions and timelines,
operation progress, tenant scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from api.app import create_app
from connectors.registry import ConnectorRegistry
from runtime.worker import build_workers
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey
from tests.api.live_server import serving
from tests.api.support import TenantKeys, event, eventually, gql, post_events

PROTOCOL = Subprotocol("graphql-transport-ws")
# bounds a wait for a message so a broken server fails the test instead of hanging it
RECEIVE_TIMEOUT = 30

TRANSITIONS = """
subscription($j: ID!, $e: ID, $since: DateTime) {
  enrollmentTransitions(journeyId: $j, enrollmentId: $e, since: $since) {
    seq fromNode toNode label
  }
}
"""
TIMELINE = """
subscription($c: ID!, $since: DateTime) {
  customerTimeline(customerId: $c, since: $since) {
    kind event { id type } delivery { status } transition { toNode }
  }
}
"""
PAUSE = """
mutation($j: ID!) { pauseJourneyEnrollments(journeyId: $j) { ... on BulkOperation { id } } }
"""
PROGRESS = """
subscription($id: ID!) { operationProgress(id: $id) { status total done percent } }
"""


@dataclass(frozen=True)
class LiveServer:
    http: httpx.AsyncClient
    ws_url: str


@pytest.fixture
async def live(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[LiveServer]:
    """The real app on uvicorn at 127.0.0.1 (websockets enabled), with workers running."""
    async with AsyncExitStack() as stack:
        for worker in build_workers(temporal_env.client, store, registry):
            await stack.enter_async_context(worker)
        port = await stack.enter_async_context(
            serving(create_app(store, temporal_env.client, registry))
        )
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
        )
        yield LiveServer(http, f"ws://127.0.0.1:{port}/graphql")


class Session:
    """One `graphql-transport-ws` connection; messages of other operations are kept for later."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._kept: dict[str, list[dict[str, Any]]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message (pings answered)."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), RECEIVE_TIMEOUT)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] != "ping":
                return message
            await self.send({"type": "pong"})

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def message_for(self, op_id: str) -> dict[str, Any]:
        """The operation's next message."""
        kept = self._kept.get(op_id)
        if kept:
            return kept.pop(0)
        while True:
            message = await self.receive()
            if message.get("id") == op_id:
                return message
            self._kept.setdefault(str(message.get("id")), []).append(message)

    async def next_payload(self, op_id: str) -> dict[str, Any]:
        """The data of the operation's next message, which must be a `next` without errors."""
        message = await self.message_for(op_id)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def closed_code(self) -> int | None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.receive()
        return self.ws.close_code


@contextlib.asynccontextmanager
async def session(
    live: LiveServer, payload: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> AsyncIterator[Session]:
    async with connect(live.ws_url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:
        opened = Session(ws)
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await opened.send(message)
        yield opened


@contextlib.asynccontextmanager
async def authenticated(live: LiveServer, tenant: TenantKeys, role: str) -> AsyncIterator[Session]:
    async with session(live, {"authorization": f"Bearer {tenant.keys[role]}"}) as opened:
        assert (await opened.receive())["type"] == "connection_ack"
        yield opened


async def _waiting_enrollment(live: LiveServer, tenant: TenantKeys) -> tuple[str, str, str]:
    """A published journey and an enrollment waiting at `await_order`: (journey, enrollment,
    customer)."""
    created = await gql(
        live.http,
        tenant,
        CREATE_JOURNEY,
        {"input": {"name": "Live", "definition": welcome_journey(timeout="PT10M")}},
    )
    journey_id: str = created["createJourney"]["id"]
    await gql(live.http, tenant, PUBLISH_JOURNEY, {"id": journey_id})
    signup = await post_events(
        live.http,
        tenant,
        [event("s1", "signup.completed", {"phone": "13900000401"}, {"plan": "pro"})],
    )
    [route] = signup["results"][0]["enrollments"]
    enrollment_id: str = route["enrollment_id"]

    async def waiting() -> bool:
        data = await gql(
            live.http,
            tenant,
            "query($id: ID!) { enrollment(id: $id) { currentNode } }",
            {"id": enrollment_id},
        )
        found = data["enrollment"]
        return bool(found and found["currentNode"] == "await_order")

    await eventually(waiting)
    return journey_id, enrollment_id, signup["results"][0]["customer_id"]


async def _finished(live: LiveServer, tenant: TenantKeys, operation_id: str) -> None:
    async def finished() -> bool:
        data = await gql(
            live.http,
            tenant,
            "query($id: ID!) { operation(id: $id) { status } }",
            {"id": operation_id},
        )
        return data["operation"]["status"] in ("SUCCEEDED", "FAILED")

    await eventually(finished)


async def _pause(live: LiveServer, tenant: TenantKeys, journey_id: str) -> str:
    """Pause the journey's enrollments as an operator; the bulk operation's id."""
    data = await gql(live.http, tenant, PAUSE, {"j": journey_id}, role="operator")
    operation_id: str = data["pauseJourneyEnrollments"]["id"]
    return operation_id


async def test_a_subscriber_receives_the_transitions_and_timeline_of_a_step_as_it_happens(
    live: LiveServer, tenant: TenantKeys, started: list[str]
) -> None:
    journey_id, enrollment_id, customer_id = await _waiting_enrollment(live, tenant)
    started.append(enrollment_id)
    since = datetime.now(UTC).isoformat()
    async with authenticated(live, tenant, "viewer") as ws:
        await ws.subscribe("t", TRANSITIONS, {"j": journey_id, "e": enrollment_id, "since": since})
        await ws.subscribe("c", TIMELINE, {"c": customer_id, "since": since})
        await post_events(
            live.http, tenant, [event("o1", "order.paid", {"phone": "13900000401"}, {"total": 9})]
        )
        transition = (await ws.next_payload("t"))["enrollmentTransitions"]
        assert transition["fromNode"] == "await_order"
        assert (transition["toNode"], transition["label"]) == ("bought", "matched")

        timeline = [(await ws.next_payload("c"))["customerTimeline"]]
        while timeline[-1]["kind"] != "TRANSITION":
            timeline.append((await ws.next_payload("c"))["customerTimeline"])
        assert timeline[0] == {
            "kind": "EVENT",
            "event": {"id": "o1", "type": "order.paid"},
            "delivery": None,
            "transition": None,
        }
        assert timeline[-1]["transition"] == {"toNode": "bought"}

        # a journey-wide feed from the start of the day replays what this journey recorded
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        await ws.subscribe("j", TRANSITIONS, {"j": journey_id, "since": day.isoformat()})
        replayed = [(await ws.next_payload("j"))["enrollmentTransitions"] for _ in range(3)]
        assert [t["toNode"] for t in replayed[:2]] == ["start", "welcome"]


async def test_the_api_key_can_come_in_the_handshake_header(
    live: LiveServer, tenant: TenantKeys
) -> None:
    async with session(live, None, headers=tenant.auth("viewer")) as ws:
        assert (await ws.receive())["type"] == "connection_ack"


@pytest.mark.parametrize(
    "payload",
    [None, {"authorization": "Bearer oj_wrong_key"}, {"authorization": "Basic abc"}],
    ids=["no-key", "unknown-key", "not-bearer"],
)
async def test_a_connection_without_a_valid_key_is_closed_as_unauthorized(
    live: LiveServer, payload: dict[str, Any] | None
) -> None:
    async with session(live, payload) as ws:
        assert await ws.closed_code() == 4401


async def test_subscribing_before_connection_init_is_unauthorized(
    live: LiveServer, tenant: TenantKeys
) -> None:
    async with connect(live.ws_url, subprotocols=[PROTOCOL]) as raw:
        ws = Session(raw)
        await ws.subscribe("1", PROGRESS, {"id": "op_x"})
        assert await ws.closed_code() == 4401


async def test_the_legacy_graphql_ws_protocol_is_refused(live: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(live.ws_url, subprotocols=[Subprotocol("graphql-ws")]):
            pass
    assert refused.value.response.status_code == 403


async def test_another_tenants_enrollment_customer_or_operation_is_not_found(
    live: LiveServer, tenant: TenantKeys, other_tenant: TenantKeys, started: list[str]
) -> None:
    journey_id, enrollment_id, customer_id = await _waiting_enrollment(live, tenant)
    started.append(enrollment_id)
    operation_id = await _pause(live, tenant, journey_id)
    await _finished(live, tenant, operation_id)

    async with authenticated(live, other_tenant, "admin") as ws:
        own_journey = await gql(
            live.http,
            other_tenant,
            CREATE_JOURNEY,
            {"input": {"name": "Theirs", "definition": welcome_journey()}},
        )
        their_journey = own_journey["createJourney"]["id"]
        cases = {
            "journey": (TRANSITIONS, {"j": journey_id}),
            "enrollment": (TRANSITIONS, {"j": their_journey, "e": enrollment_id}),
            "customer": (TIMELINE, {"c": customer_id}),
            "operation": (PROGRESS, {"id": operation_id}),
        }
        for op_id, (query, variables) in cases.items():
            await ws.subscribe(op_id, query, variables)
        for op_id in cases:
            message = await ws.message_for(op_id)
            payload = message["payload"]
            errors = payload if message["type"] == "error" else payload["errors"]
            print("MSG", op_id, message)
            assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"], (op_id, message)
            assert "data" not in message["payload"] or not message["payload"]["data"], message


async def test_operation_progress_streams_until_the_operation_has_finished(
    live: LiveServer, tenant: TenantKeys, started: list[str]
) -> None:
    journey_id, enrollment_id, _ = await _waiting_enrollment(live, tenant)
    started.append(enrollment_id)
    operation_id = await _pause(live, tenant, journey_id)
    async with authenticated(live, tenant, "viewer") as ws:
        await ws.subscribe("p", PROGRESS, {"id": operation_id})
        snapshots = []
        while True:
            message = await ws.message_for("p")
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            snapshots.append(message["payload"]["data"]["operationProgress"])
    assert snapshots[-1] == {"status": "SUCCEEDED", "total": 1, "done": 1, "percent": 100.0}
    assert all(s["status"] in ("PENDING", "RUNNING") for s in snapshots[:-1])
