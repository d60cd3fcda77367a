"""Commerce levers: per key, the customers who entered and their paid orders from entering on.

Conversion, repurchase rate, frequency, AOV and ARPU are derived from these counts by
`domain.metrics.CommerceCounts`.
"""

from __future__ import annotations

from domain.metrics import ORDER_PAID, CommerceCounts, Cut, TimeRange
from store.metrics.cohorts import cohort
from store.metrics.expressions import REVENUE, Aggregation, Key, cohort_events, total
from store.mongo import Document


def aggregation(tenant_id: str, time_range: TimeRange, cut: Cut) -> Aggregation:
    """One row per key: entered, buyers, repeat buyers, orders and revenue."""
    source, pipeline = cohort(tenant_id, time_range, cut)
    pipeline += [
        cohort_events(
            [
                {
                    "$match": {
                        "tenant_id": tenant_id,
                        "type": ORDER_PAID,
                        "timestamp": {"$lt": time_range.end},
                        "$expr": {"$gte": ["$timestamp", "$$at"]},
                    }
                },
                {"$group": {"_id": None, "n": {"$sum": 1}, "revenue": {"$sum": REVENUE}}},
            ],
            into="paid",
        ),
        {
            "$project": {
                "key": 1,
                "n": total("$paid", "n"),
                "revenue": total("$paid", "revenue"),
            }
        },
        {
            "$group": {
                "_id": "$key",
                "entered": {"$sum": 1},
                "buyers": {"$sum": {"$cond": [{"$gte": ["$n", 1]}, 1, 0]}},
                "repeat_buyers": {"$sum": {"$cond": [{"$gte": ["$n", 2]}, 1, 0]}},
                "orders": {"$sum": "$n"},
                "revenue": {"$sum": "$revenue"},
            }
        },
    ]
    return Aggregation(source, pipeline)


def from_rows(rows: list[Document]) -> dict[Key, CommerceCounts]:
    """The counts per key of `aggregation`'s rows."""
    return {
        row["_id"]: CommerceCounts(
            entered=row["entered"],
            buyers=row["buyers"],
            repeat_buyers=row["repeat_buyers"],
            orders=row["orders"],
            revenue=float(row["revenue"]),
        )
        for row in rows
    }
