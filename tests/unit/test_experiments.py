"""Experiments: assignment by weight (stable per enrollment run), the engine's split, winners,
the comparison with the control, and when a winner is picked."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from domain.engine import Engine, RecordTransition, Start, new_state
from domain.experiments import (
    VariantCounts,
    assign_variant,
    decide,
    p_value,
    summarize,
)
from domain.journey import (
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    SplitNode,
    SplitVariant,
    WinnerRule,
)
from domain.validation import validate_journey

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def split(*variants: tuple[str, int], holdout: str | None = None, **rule: object) -> SplitNode:
    return SplitNode(
        id="ab",
        variants=[SplitVariant(id=v, weight=w, holdout=v == holdout) for v, w in variants],
        winner=WinnerRule(**rule) if rule else None,  # type: ignore[arg-type]
    )


def test_assignment_is_stable_and_follows_the_weights() -> None:
    node = split(("a", 70), ("b", 30))

    taken = Counter(assign_variant(node, f"t:j:c{i}", "1700000000000") for i in range(10_000))

    assert set(taken) == {"a", "b"}
    assert abs(taken["a"] / 10_000 - 0.7) < 0.02
    assert all(
        assign_variant(node, "t:j:c7", "r") == assign_variant(node, "t:j:c7", "r") for _ in range(5)
    )
    runs = {assign_variant(node, "t:j:c7", str(run)) for run in range(40)}
    assert runs == {"a", "b"}  # a new run is a new draw


def test_a_zero_weight_variant_takes_nobody_and_all_zero_splits_evenly() -> None:
    closed = split(("a", 1), ("b", 0))
    even = split(("a", 0), ("b", 0))

    assert {assign_variant(closed, f"e{i}", None) for i in range(500)} == {"a"}
    shares = Counter(assign_variant(even, f"e{i}", None) for i in range(4000))
    assert abs(shares["a"] / 4000 - 0.5) < 0.04


def journey(node: SplitNode) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            node,
            *[ExitNode(id=f"end_{v.id}", reason=v.id) for v in node.variants],
        ],
        edges=[
            Edge(source="in", target=node.id),
            *[Edge(source=node.id, target=f"end_{v.id}", label=v.id) for v in node.variants],
        ],
    )


def test_the_engine_follows_the_assigned_variant_or_the_winner() -> None:
    node = split(("a", 1), ("b", 1), ("c", 1))
    definition = journey(node)
    for i in range(30):
        enrollment = f"t:j:c{i}"
        state, commands = Engine(definition).advance(new_state(enrollment, "r1"), Start(), T0)
        labels = [
            c.label for c in commands if isinstance(c, RecordTransition) and c.from_node == "ab"
        ]
        assert labels == [assign_variant(node, enrollment, "r1")]
        assert state.exit_reason == labels[0]

        won, _ = Engine(definition, {"ab": "c"}).advance(new_state(enrollment, "r1"), Start(), T0)
        assert won.exit_reason == "c"
        stale, _ = Engine(definition, {"ab": "gone"}).advance(
            new_state(enrollment, "r1"), Start(), T0
        )
        assert stale.exit_reason == labels[0]  # a winner the node does not have is ignored


def test_p_value_is_the_two_sided_pooled_z_test() -> None:
    # 50/100 against 30/100: pooled 0.4, se = sqrt(0.4 * 0.6 * 0.02), z = 0.2 / se
    z = 0.2 / math.sqrt(0.4 * 0.6 * 0.02)
    expected = 2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2))))

    assert p_value(50, 100, 30, 100) == pytest.approx(expected)
    assert p_value(50, 100, 30, 100) == pytest.approx(0.00389, abs=1e-4)
    assert p_value(5, 10, 5, 10) == pytest.approx(1.0)
    assert p_value(0, 0, 3, 10) is None
    assert p_value(0, 10, 0, 10) is None  # nobody converted anywhere: nothing to compare


def test_variants_are_compared_with_the_holdout() -> None:
    node = split(("a", 45), ("b", 45), ("hold", 10), holdout="hold")
    counts = [
        VariantCounts(variant_id="a", enrollments=100, converted=50, revenue=9000),
        VariantCounts(variant_id="hold", enrollments=100, converted=30),
    ]

    summary = summarize(node, counts, None)

    assert summary.control_id == "hold"
    a, b, hold = summary.variants
    assert (a.conversion_rate, a.revenue_per_enrollment) == (0.5, 90.0)
    assert a.lift == pytest.approx((0.5 - 0.3) / 0.3)
    assert a.p_value == pytest.approx(p_value(50, 100, 30, 100))
    assert (b.counts.enrollments, b.conversion_rate, b.p_value) == (0, None, None)
    assert (hold.control, hold.lift, hold.p_value) == (True, None, None)


def test_a_winner_is_picked_by_sample_or_window_and_never_the_holdout() -> None:
    counts = [
        VariantCounts(variant_id="a", enrollments=120, converted=12),
        VariantCounts(variant_id="b", enrollments=110, converted=22),
        VariantCounts(variant_id="hold", enrollments=500, converted=400),
    ]
    by_sample = split(("a", 1), ("b", 1), ("hold", 1), holdout="hold", min_sample=100)
    by_window = split(("a", 1), ("b", 1), after=timedelta(days=7))
    not_yet = split(("a", 1), ("b", 1), min_sample=200, after=timedelta(days=7))

    sampled = decide(by_sample, counts, T0, T0 + timedelta(hours=1))
    windowed = decide(by_window, counts, T0, T0 + timedelta(days=7))

    assert sampled is not None and (sampled.variant_id, sampled.reason) == ("b", "sample")
    assert windowed is not None and (windowed.variant_id, windowed.reason) == ("b", "window")
    assert decide(not_yet, counts, T0, T0 + timedelta(days=6)) is None
    assert decide(by_window, [], T0, T0 + timedelta(days=8)) is None  # nobody took it
    assert decide(split(("a", 1), ("b", 1)), counts, T0, T0 + timedelta(days=99)) is None


def test_split_problems_are_named() -> None:
    bad = SplitNode(
        id="ab",
        variants=[
            SplitVariant(id="a", weight=0, holdout=True),
            SplitVariant(id="a", weight=0, holdout=True),
        ],
        winner=WinnerRule(),
    )

    problems = validate_journey(journey(bad), {})

    named = [p for p in problems if p.node_id == "ab" and p.code != "duplicate_edge"]
    assert sorted((p.code, p.path) for p in named) == [
        ("duplicate_variant", "variants[1].id"),
        ("invalid_split", "variants"),
        ("invalid_split", "variants[1].holdout"),
        ("invalid_split", "winner"),
        ("invalid_split", "winner"),
    ]
