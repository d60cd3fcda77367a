"""The store's metric rows become domain models without MongoDB: each `from_rows` is pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.journey import EntryNode, ExitNode, JourneyDefinition
from domain.metrics import CommerceCounts, EdgeCount, ExitCount, JourneyCut, TimeRange
from store.metrics import audience, commerce, conversion, deliveries, funnel, retention
from store.mongo import ENROLLMENTS

WEEK = datetime(2025, 1, 6, tzinfo=UTC)


def test_commerce_rows_become_counts_per_key_with_revenue_as_a_float() -> None:
    rows = [
        {"_id": None, "entered": 4, "buyers": 2, "repeat_buyers": 1, "orders": 3, "revenue": 300},
        {"_id": "qr", "entered": 1, "buyers": 0, "repeat_buyers": 0, "orders": 0, "revenue": 0},
    ]

    found = commerce.from_rows(rows)

    assert found[None] == CommerceCounts(
        entered=4, buyers=2, repeat_buyers=1, orders=3, revenue=300.0
    )
    assert isinstance(found[None].revenue, float)
    assert found["qr"] == CommerceCounts.empty().model_copy(update={"entered": 1})


def test_retention_rows_group_weekly_cohorts_by_key_in_row_order() -> None:
    def row(key: str | None, week: datetime, entered: int) -> dict[str, object]:
        eligible = {f"eligible{day}": entered for day in (7, 30, 90)}
        retained = {f"retained{day}": 1 for day in (7, 30, 90)}
        return {"_id": {"key": key, "week": week}, "entered": entered, **eligible, **retained}

    later = WEEK + timedelta(days=7)
    found = retention.from_rows([row(None, WEEK, 3), row(None, later, 2), row("qr", WEEK, 1)])

    assert [c.week_start for c in found[None]] == [WEEK, later]
    assert [(p.day, p.eligible, p.retained) for p in found[None][0].points] == [
        (7, 3, 1),
        (30, 3, 1),
        (90, 3, 1),
    ]
    assert found["qr"][0].entered == 1


def test_a_retention_row_without_a_key_counts_for_the_whole_cut() -> None:
    row = {"_id": {"week": WEEK}, "entered": 1}
    row.update({f"{flag}{day}": 0 for day in (7, 30, 90) for flag in ("eligible", "retained")})

    assert list(retention.from_rows([row])) == [None]


def test_audience_rows_become_users_per_key() -> None:
    assert audience.from_rows([{"_id": None, "n": 5}, {"_id": "qr", "n": 2.0}]) == {
        None: 5,
        "qr": 2,
    }


def test_delivery_rows_keep_the_channel_order_and_name_reached_customers() -> None:
    rows = [
        {
            "_id": c,
            "total": 3,
            "succeeded": 2,
            "failed": 1,
            "pending": 0,
            "skipped": 0,
            "reached": 2,
        }
        for c in ("sms", "wecom")
    ]

    found = deliveries.from_rows(rows)

    assert [d.channel for d in found] == ["sms", "wecom"]
    assert found[0].customers_reached == 2
    assert found[0].success_rate == 2 / 3


def test_conversion_durations_are_milliseconds_and_absent_facets_mean_zero() -> None:
    row = {
        "counts": [{"started": 4, "converted": 2}],
        "durations": [{"median": 90_000.0, "mean": 120_000.0}],
    }

    found = conversion.from_rows([row])

    assert (found.started, found.converted) == (4, 2)
    assert found.median_time_to_convert == timedelta(seconds=90)
    assert found.mean_time_to_convert == timedelta(minutes=2)
    empty = conversion.from_rows([{"counts": [], "durations": []}])
    assert (empty.started, empty.converted, empty.median_time_to_convert) == (0, 0, None)
    assert conversion.from_rows([]).started == 0


def test_funnel_rows_follow_the_definition_then_unknown_nodes_in_id_order() -> None:
    definition = JourneyDefinition(nodes=[EntryNode(id="start"), ExitNode(id="bye", name="Bye")])
    row = {
        "started": [{"n": 3}],
        "entered": [
            {"_id": "start", "entered": 3, "enrollments": 3, "converted": 1},
            {"_id": "zeta", "entered": 1, "enrollments": 1, "converted": 0},
            {"_id": "alpha", "entered": 2, "enrollments": 1, "converted": 0},
        ],
        "proceeded": [{"_id": {"node": "start", "label": "next", "to": "bye"}, "count": 2}],
        "exited": [{"_id": {"node": "bye", "reason": "completed"}, "count": 2}],
    }

    found = funnel.from_rows([row], definition)

    assert found.started == 3
    assert [(n.node_id, n.kind, n.name) for n in found.nodes] == [
        ("start", "entry", None),
        ("bye", "exit", "Bye"),
        ("alpha", "unknown", None),
        ("zeta", "unknown", None),
    ]
    assert found.nodes[0].proceeded == [EdgeCount(label="next", target="bye", count=2)]
    assert found.nodes[1].exited == [ExitCount(reason="completed", count=2)]
    assert found.nodes[1].entered == 0


def test_an_empty_funnel_row_without_a_definition_has_no_nodes() -> None:
    row = {"started": [], "entered": [], "proceeded": [], "exited": []}

    found = funnel.from_rows([row], None)

    assert (found.started, found.nodes) == (0, [])


def test_journey_aggregations_start_from_the_enrollments_and_their_earlier_runs() -> None:
    span = TimeRange(start=WEEK, end=WEEK + timedelta(days=7))
    cut = JourneyCut(journey_id="j", version=2)

    for built in (conversion.aggregation("acme", span, cut), funnel.aggregation("acme", span, cut)):
        assert built.collection == ENROLLMENTS
        match = built.pipeline[0]["$match"]
        assert match == {
            "tenant_id": "acme",
            "journey_id": "j",
            "started_at": {"$gte": span.start, "$lt": span.end},
            "version": 2,
        }
        assert built.pipeline[1]["$unionWith"]["pipeline"] == [{"$match": match}]
