"""On the real Temporal server, a version carrying canvas metadata runs exactly as without it."""

from __future__ import annotations

from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    NodeUi,
    WaitNode,
)
from tests.workflows.harness import Bench


def definition(placed: bool) -> JourneyDefinition:
    def ui(index: int) -> NodeUi | None:
        return NodeUi(x=index * 100, y=20, color="#52c41a", notes="n") if placed else None

    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry", ui=ui(0)),
            ActionNode(
                id="hello",
                channel="sandbox",
                action="send_message",
                params={"text": "hi"},
                respect_quiet_hours=False,
                ui=ui(1),
            ),
            WaitNode(id="pause", ui=ui(2)),
            ExitNode(id="done", reason="done", ui=ui(3)),
        ],
        edges=[
            Edge(source="entry", target="hello"),
            Edge(source="hello", target="pause"),
            Edge(source="pause", target="done"),
        ],
    )


async def test_a_version_with_canvas_metadata_walks_the_same_path(jb: Bench) -> None:
    walked = []
    for placed in (False, True):
        journey_id, version = await jb.publish(definition(placed), name=f"placed={placed}")
        customer_id = await jb.customer(external_id=f"canvas-{placed}")
        enrollment_id = await jb.enroll(journey_id, version, customer_id)
        result = await jb.result(enrollment_id)
        transitions = await jb.transitions(enrollment_id)
        deliveries = await jb.deliveries(enrollment_id)
        walked.append(
            (
                result.status,
                result.reason,
                [(t.from_node, t.to_node, t.label) for t in transitions],
                [(d.node_id, d.status) for d in deliveries],
            )
        )

    assert walked[0] == walked[1]
    assert walked[1][0:2] == ("exited", "done")
