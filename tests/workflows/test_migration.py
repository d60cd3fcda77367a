"""Live-journey migration on the real Temporal server: 200 in-flight enrollments of v1 move to
v2 at their mapped node, none gets a delivery twice, and they walk v2 from there."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition, WaitNode
from tests.workflows.harness import Bench
from workflows import client as journeys_client

ENROLLMENTS = int(os.environ.get("MIGRATION_ENROLLMENTS", "200"))


def hello(node_id: str, text: str) -> ActionNode:
    return ActionNode(
        id=node_id,
        channel="sandbox",
        action="send_message",
        params={"text": text},
        respect_quiet_hours=False,
    )


V1 = JourneyDefinition(
    nodes=[
        EntryNode(id="entry"),
        hello("hello", "hi"),
        WaitNode(id="wait", duration=timedelta(days=1)),
        ExitNode(id="done"),
    ],
    edges=[
        Edge(source="entry", target="hello"),
        Edge(source="hello", target="wait"),
        Edge(source="wait", target="done"),
    ],
)
V2 = JourneyDefinition(
    nodes=[
        EntryNode(id="entry"),
        hello("hello", "hi"),
        WaitNode(id="wait_shorter", duration=timedelta(seconds=2)),
        hello("follow_up", "anything else?"),
        ExitNode(id="done"),
    ],
    edges=[
        Edge(source="entry", target="hello"),
        Edge(source="hello", target="wait_shorter"),
        Edge(source="wait_shorter", target="follow_up"),
        Edge(source="follow_up", target="done"),
    ],
)


async def test_two_hundred_enrollments_move_to_v2_without_a_second_delivery(jb: Bench) -> None:
    journey_id, v1 = await jb.publish(V1, name="migrating")
    now_v2 = await jb.store.journeys.publish(
        jb.tenant_id,
        journey_id,
        V2,
        V2.listened_event_types(),
        (await jb.store.journeys.get(jb.tenant_id, journey_id)).updated_at,
    )
    enrollments = []
    for index in range(ENROLLMENTS):
        customer_id = await jb.customer(external_id=f"m{index}")
        enrollments.append(await jb.enroll(journey_id, v1, customer_id))
    for enrollment in enrollments:
        await jb.until(enrollment, lambda e: e.current_node == "wait", attempts=400)

    await asyncio.gather(
        *(
            journeys_client.migrate(jb.client, e, now_v2, {"wait": "wait_shorter"})
            for e in enrollments
        )
    )
    results = [await jb.result(e) for e in enrollments]

    assert {(r.status, r.reason) for r in results} == {("exited", "completed")}
    for enrollment in enrollments:
        deliveries = await jb.deliveries(enrollment)
        assert sorted((d.node_id, d.status) for d in deliveries) == [
            ("follow_up", "succeeded"),
            ("hello", "succeeded"),
        ]
        projection = await jb.projection(enrollment)
        assert projection.version == now_v2
        path = [t.to_node for t in await jb.transitions(enrollment)]
        assert path[:3] == ["entry", "hello", "wait"]
        assert path[3:] == ["wait_shorter", "follow_up", "done", None]
