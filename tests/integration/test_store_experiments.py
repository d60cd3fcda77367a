"""Experiment counts per variant over real transitions and orders, and decisions recorded once."""

from __future__ import annotations

from datetime import timedelta

from domain.experiments import ExperimentDecision, VariantCounts
from domain.journey import (
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    SplitNode,
    SplitVariant,
    WinnerRule,
)
from domain.metrics import JourneyCut
from store.database import Store
from tests.integration.test_store_metrics import RANGE, T0, Seed

CUT = JourneyCut(journey_id="jrn_1")


async def test_each_variant_counts_its_enrollments_conversions_and_revenue(store: Store) -> None:
    seed = Seed(store, "acme")
    for index, (variant, converts, spends) in enumerate(
        [("a", True, 100), ("a", False, 0), ("a", True, 50), ("b", False, 30), ("b", False, 0)]
    ):
        customer = await seed.customer(T0)
        start = T0 + timedelta(hours=index)
        path = [(None, "in", "start"), ("in", "ab", "next"), ("ab", f"end_{variant}", variant)]
        if converts:
            path.append((None, "goal_bought", "goal:order.paid"))
        await seed.enrollment(
            customer, start, path, converted_after=timedelta(hours=1) if converts else None
        )
        if spends:
            await seed.order(customer, start + timedelta(hours=1), total=spends)
        await seed.order(customer, start - timedelta(days=1), total=999)  # before: not counted
    other = await seed.customer(T0)
    await seed.enrollment(other, T0, [(None, "in", "start"), ("in", "wait", "next")])

    found = await store.metrics.experiments("acme", RANGE, CUT, ["ab"])

    assert found == {
        "ab": [
            VariantCounts(variant_id="a", enrollments=3, converted=2, revenue=150.0),
            VariantCounts(variant_id="b", enrollments=2, converted=0, revenue=30.0),
        ]
    }
    assert await store.metrics.experiments("globex", RANGE, CUT, ["ab"]) == {}
    assert await store.metrics.experiments("acme", RANGE, CUT, []) == {}


async def test_an_open_experiment_is_decided_once(store: Store) -> None:
    definition = JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            SplitNode(
                id="ab",
                variants=[SplitVariant(id="a"), SplitVariant(id="b")],
                winner=WinnerRule(min_sample=10),
            ),
            ExitNode(id="end_a"),
            ExitNode(id="end_b"),
        ],
        edges=[
            Edge(source="in", target="ab"),
            Edge(source="ab", target="end_a", label="a"),
            Edge(source="ab", target="end_b", label="b"),
        ],
    )
    journey = await store.journeys.create("acme", "AB", T0, draft=definition)
    number = await store.journeys.publish("acme", journey.id, definition, [], T0)
    [open_version] = await store.experiments.open()
    assert (open_version.version, open_version.open_experiments) == (number, ["ab"])
    decision = ExperimentDecision(node_id="ab", variant_id="b", decided_at=T0, reason="sample")

    assert await store.experiments.record(open_version, decision) is True
    assert (
        await store.experiments.record(
            open_version, decision.model_copy(update={"variant_id": "a"})
        )
        is False
    )

    version = await store.journeys.get_version("acme", journey.id, number)
    assert version.experiment_decisions == {"ab": decision}
    assert version.open_experiments == []
    assert await store.experiments.open() == []
