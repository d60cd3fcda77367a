"""Commerce levers: per key, the customers who entered and their paid orders from entering on.

Refunds (`order.refunded`, before `to`) are matched to their paid order by `properties.order_id`:
what they gave back is subtracted from the order's revenue (never below 0), and an order refunded
in full (`properties.full`, or refunds adding up to what was paid) is no longer an order, so it
counts neither as a purchase nor towards a repeat purchase. A paid order without an `order_id`
is never refunded.

Conversion, repurchase rate, frequency, AOV and ARPU are derived from these counts by
`domain.metrics.CommerceCounts`.
"""

from __future__ import annotations

from domain.metrics import ORDER_PAID, ORDER_REFUNDED, CommerceCounts, Cut, TimeRange
from store.metrics.cohorts import cohort
from store.metrics.expressions import (
    REFUNDED,
    REVENUE,
    Aggregation,
    Key,
    cohort_events,
    total,
)
from store.mongo import Document

_PAID = {"$eq": ["$type", ORDER_PAID]}
_REFUND = {"$eq": ["$type", ORDER_REFUNDED]}

# One row per order (its paid events and its refunds), then its count and its net revenue.
_ORDERS_NET_OF_REFUNDS: list[Document] = [
    {
        "$group": {
            "_id": {"$ifNull": ["$properties.order_id", "$_id"]},
            "paid": {"$sum": {"$cond": [_PAID, 1, 0]}},
            "revenue": {"$sum": {"$cond": [_PAID, REVENUE, 0]}},
            "refunded": {"$sum": {"$cond": [_REFUND, REFUNDED, 0]}},
            "full": {
                "$max": {"$cond": [{"$and": [_REFUND, {"$eq": ["$properties.full", True]}]}, 1, 0]}
            },
        }
    },
    {"$match": {"paid": {"$gte": 1}}},  # a refund of an order not counted changes nothing
    {
        "$project": {
            "orders": {
                "$cond": [
                    {
                        "$or": [
                            {"$eq": ["$full", 1]},
                            {
                                "$and": [
                                    {"$gt": ["$refunded", 0]},
                                    {"$gte": ["$refunded", "$revenue"]},
                                ]
                            },
                        ]
                    },
                    0,
                    "$paid",
                ]
            },
            "net": {"$max": [0, {"$subtract": ["$revenue", "$refunded"]}]},
        }
    },
]


def aggregation(tenant_id: str, time_range: TimeRange, cut: Cut) -> Aggregation:
    """One row per key: entered, buyers, repeat buyers, orders and revenue."""
    source, pipeline = cohort(tenant_id, time_range, cut)
    pipeline += [
        cohort_events(
            [
                {
                    "$match": {
                        "tenant_id": tenant_id,
                        "type": {"$in": [ORDER_PAID, ORDER_REFUNDED]},
                        "timestamp": {"$lt": time_range.end},
                        "$expr": {"$gte": ["$timestamp", "$$at"]},
                    }
                },
                *_ORDERS_NET_OF_REFUNDS,
                {"$group": {"_id": None, "n": {"$sum": "$orders"}, "revenue": {"$sum": "$net"}}},
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
