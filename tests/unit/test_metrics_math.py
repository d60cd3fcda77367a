"""The arithmetic of the metrics: rates from counts, the ARPU identity, ranges and windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.metrics import (
    CommerceCounts,
    EdgeCount,
    ExitCount,
    Funnel,
    FunnelNode,
    JourneyConversion,
    RetentionCohort,
    RetentionPoint,
    TimeRange,
    arpu_from_factors,
    day_window,
    overall_retention,
    safe_div,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def test_a_zero_denominator_gives_none_not_an_error() -> None:
    assert safe_div(3, 0) is None
    assert safe_div(0, 4) == 0
    assert safe_div(1, 4) == 0.25


def test_levers_follow_their_definitions() -> None:
    counts = CommerceCounts(entered=10, buyers=4, repeat_buyers=2, orders=7, revenue=450.0)

    assert counts.conversion_rate == 0.4
    assert counts.repurchase_rate == 0.5
    assert counts.purchase_frequency == 1.75
    assert counts.aov == pytest.approx(450 / 7)
    assert counts.arpu == 45.0


def test_a_cohort_nobody_entered_has_no_rates() -> None:
    empty = CommerceCounts.empty()

    assert (empty.conversion_rate, empty.repurchase_rate, empty.aov, empty.arpu) == (
        None,
        None,
        None,
        None,
    )
    assert arpu_from_factors(None, None, None) is None


def test_a_cohort_without_buyers_has_zero_arpu_but_no_aov() -> None:
    counts = CommerceCounts(entered=5, buyers=0, repeat_buyers=0, orders=0, revenue=0.0)

    assert counts.arpu == 0.0 and counts.conversion_rate == 0.0
    assert counts.aov is None and counts.purchase_frequency is None
    assert arpu_from_factors(counts.conversion_rate, None, None) == 0.0


@given(
    entered=st.integers(min_value=1, max_value=10_000),
    buyers_share=st.floats(min_value=0.0, max_value=1.0),
    extra_orders=st.integers(min_value=0, max_value=50_000),
    cents=st.integers(min_value=0, max_value=10**9),
)
def test_arpu_is_conversion_times_frequency_times_aov(
    entered: int, buyers_share: float, extra_orders: int, cents: int
) -> None:
    buyers = int(entered * buyers_share)
    orders = buyers + (extra_orders if buyers else 0)
    revenue = cents / 100 if orders else 0.0
    counts = CommerceCounts(
        entered=entered,
        buyers=buyers,
        repeat_buyers=min(buyers, extra_orders),
        orders=orders,
        revenue=revenue,
    )

    product = arpu_from_factors(counts.conversion_rate, counts.purchase_frequency, counts.aov)

    assert product == pytest.approx(counts.arpu)


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValidationError):
        CommerceCounts(entered=-1, buyers=0, repeat_buyers=0, orders=0, revenue=0.0)


def test_a_range_must_end_after_it_starts_and_stay_bounded() -> None:
    with pytest.raises(ValidationError, match="end after it starts"):
        TimeRange(start=T0, end=T0)
    with pytest.raises(ValidationError, match="at most"):
        TimeRange(start=T0, end=T0 + timedelta(days=5000))
    with pytest.raises(ValidationError):
        TimeRange(
            start=datetime(2025, 1, 1), end=datetime(2025, 2, 1)
        )  # naive datetimes are rejected
    assert TimeRange(start=T0, end=T0 + timedelta(days=1)).end > T0


def test_journey_conversion_rate_is_converted_over_started() -> None:
    assert JourneyConversion(started=10, converted=4).conversion_rate == 0.4
    assert JourneyConversion(started=0, converted=0).conversion_rate is None


def test_funnel_rates_divide_by_visits_and_enrollments() -> None:
    node = FunnelNode(
        node_id="wait",
        kind="wait_for_event",
        entered=8,
        enrollments=6,
        proceeded=[
            EdgeCount(label="matched", target="goal", count=4),
            EdgeCount(label="timed_out", target="remind", count=2),
        ],
        exited=[ExitCount(reason="deleted", count=1)],
        converted=3,
    )
    funnel = Funnel(started=12, nodes=[node])

    assert (node.proceeded_total, node.exited_total) == (6, 1)
    assert node.proceed_rate == 0.75 and node.exit_rate == 0.125
    assert node.conversion_rate == 0.5
    assert funnel.reach_rate(node) == 0.5
    assert Funnel(started=0, nodes=[node]).reach_rate(node) is None


def test_overall_retention_sums_every_cohorts_points_per_day() -> None:
    def cohort(week: int, points: list[tuple[int, int, int]]) -> RetentionCohort:
        return RetentionCohort(
            week_start=T0 + timedelta(weeks=week),
            entered=10,
            points=[RetentionPoint(day=d, eligible=e, retained=r) for d, e, r in points],
        )

    overall = overall_retention(
        [cohort(0, [(7, 10, 5), (30, 10, 2), (90, 0, 0)]), cohort(1, [(7, 10, 3)])]
    )

    assert [(p.day, p.eligible, p.retained, p.rate) for p in overall] == [
        (7, 20, 8, 0.4),
        (30, 10, 2, 0.2),
        (90, 0, 0, None),
    ]
    assert [p.rate for p in overall_retention([])] == [None, None, None]


def test_the_day_n_window_is_its_last_week() -> None:
    assert day_window(T0, 7) == (T0 + timedelta(days=1), T0 + timedelta(days=8))
    assert day_window(T0, 30) == (T0 + timedelta(days=24), T0 + timedelta(days=31))
