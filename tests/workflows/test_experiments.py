"""On the real Temporal server: a split sends enrollments down its variants by weight, and once
a winner is recorded on the version, new entrants all take it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from domain.experiments import ExperimentDecision
from domain.journey import (
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    SplitNode,
    SplitVariant,
    WinnerRule,
)
from tests.workflows.harness import Bench


def ab_journey() -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            SplitNode(
                id="ab",
                variants=[SplitVariant(id="a"), SplitVariant(id="b")],
                winner=WinnerRule(min_sample=1000),
            ),
            ExitNode(id="end_a", reason="took_a"),
            ExitNode(id="end_b", reason="took_b"),
        ],
        edges=[
            Edge(source="in", target="ab"),
            Edge(source="ab", target="end_a", label="a"),
            Edge(source="ab", target="end_b", label="b"),
        ],
    )


async def _walk(jb: Bench, journey_id: str, version: int, names: list[str]) -> Counter[str]:
    taken: Counter[str] = Counter()
    enrollments = []
    for name in names:
        customer_id = await jb.customer(external_id=name)
        enrollments.append(await jb.enroll(journey_id, version, customer_id))
    for enrollment_id in enrollments:
        result = await jb.result(enrollment_id)
        transitions = await jb.transitions(enrollment_id)
        [out] = [t for t in transitions if t.from_node == "ab"]
        assert result.reason == f"took_{out.label}"
        taken[out.label] += 1
    return taken


async def test_a_split_spreads_entrants_and_a_recorded_winner_takes_them_all(jb: Bench) -> None:
    journey_id, version = await jb.publish(ab_journey())

    before = await _walk(jb, journey_id, version, [f"early{i}" for i in range(16)])
    [open_version] = await jb.store.experiments.open()
    decision = ExperimentDecision(
        node_id="ab", variant_id="b", decided_at=datetime.now(UTC), reason="sample"
    )
    assert await jb.store.experiments.record(open_version, decision)
    after = await _walk(jb, journey_id, version, [f"late{i}" for i in range(8)])

    assert set(before) == {"a", "b"}
    assert after == Counter({"b": 8})
