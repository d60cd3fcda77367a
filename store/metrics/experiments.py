"""Experiments: per split node and variant, the enrollments started in the range that took it,
how many of those converted after taking it, and the revenue of their customers' paid orders
from then to the end of the range (an order refunded later still counts: refunds are the
levers' concern)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.experiments import VariantCounts
from domain.metrics import ORDER_PAID, JourneyCut, TimeRange
from store.metrics.cohorts import enrollment_match
from store.metrics.expressions import REVENUE, Aggregation, is_set, total
from store.metrics.funnel import run_of
from store.mongo import ENROLLMENTS, EVENTS, TRANSITIONS, Document


def aggregation(
    tenant_id: str, time_range: TimeRange, cut: JourneyCut, split_ids: Sequence[str]
) -> Aggregation:
    """One row per (node, variant): `enrollments`, `converted`, `revenue`."""
    pipeline: list[Document] = [
        *enrollment_match(tenant_id, time_range, cut),
        {
            "$project": {
                "customer_id": 1,
                "converted_at": 1,
                "eid": {"$ifNull": ["$enrollment_id", "$_id"]},
                "started_at": 1,
                "ended_at": 1,
            }
        },
        {
            "$lookup": {
                "from": TRANSITIONS,
                "localField": "eid",
                "foreignField": "enrollment_id",
                "let": {"st": "$started_at", "en": "$ended_at"},
                "pipeline": [
                    {
                        "$match": {
                            "tenant_id": tenant_id,
                            "from_node": {"$in": list(split_ids)},
                            "$expr": run_of("$$st", "$$en"),
                        }
                    },
                    {"$sort": {"seq": 1}},
                    {"$project": {"_id": 0, "node": "$from_node", "variant": "$label", "at": 1}},
                ],
                "as": "took",
            }
        },
        {"$unwind": "$took"},
        # The first time through each split is the one that counts.
        {
            "$group": {
                "_id": {"e": "$_id", "node": "$took.node"},
                "variant": {"$first": "$took.variant"},
                "at": {"$first": "$took.at"},
                "customer_id": {"$first": "$customer_id"},
                "converted_at": {"$first": "$converted_at"},
            }
        },
        {
            "$lookup": {
                "from": EVENTS,
                "localField": "customer_id",
                "foreignField": "customer_id",
                "let": {"at": "$at"},
                "pipeline": [
                    {
                        "$match": {
                            "tenant_id": tenant_id,
                            "type": ORDER_PAID,
                            "timestamp": {"$lt": time_range.end},
                            "$expr": {"$gte": ["$timestamp", "$$at"]},
                        }
                    },
                    {"$project": {"_id": 0, "revenue": REVENUE}},
                ],
                "as": "orders",
            }
        },
        {
            "$group": {
                "_id": {"node": "$_id.node", "variant": "$variant"},
                "enrollments": {"$sum": 1},
                "converted": {
                    "$sum": {
                        "$cond": [
                            {"$and": [is_set("$converted_at"), {"$gte": ["$converted_at", "$at"]}]},
                            1,
                            0,
                        ]
                    }
                },
                "revenue": {"$sum": total("$orders", "revenue")},
            }
        },
        {"$sort": {"_id.node": 1, "_id.variant": 1}},
    ]
    return Aggregation(ENROLLMENTS, pipeline)


def from_rows(rows: list[Document]) -> dict[str, list[VariantCounts]]:
    """Split node id → its variants' counts (variants nobody took are absent)."""
    out: dict[str, list[VariantCounts]] = {}
    for row in rows:
        out.setdefault(row["_id"]["node"], []).append(
            VariantCounts(
                variant_id=row["_id"]["variant"],
                enrollments=row["enrollments"],
                converted=row["converted"],
                revenue=float(row["revenue"]),
            )
        )
    return out
