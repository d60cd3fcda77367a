"""Deliveries per channel: created in the range, by status, and the customers they reached."""

from __future__ import annotations

from domain.metrics import ChannelCut, DeliveryCounts, TimeRange
from store.metrics.expressions import Aggregation, in_range
from store.mongo import DELIVERIES, Document

_STATUSES = ("succeeded", "failed", "pending", "skipped")


def aggregation(tenant_id: str, time_range: TimeRange, cut: ChannelCut) -> Aggregation:
    """One row per channel, by channel."""
    match: Document = {"tenant_id": tenant_id, "created_at": in_range(time_range)}
    if cut.journey_id is not None:
        match["journey_id"] = cut.journey_id

    def status(name: str) -> Document:
        return {"$sum": {"$cond": [{"$eq": ["$status", name]}, 1, 0]}}

    pipeline: list[Document] = [
        {"$match": match},
        {
            "$group": {
                "_id": {"channel": "$channel", "cid": "$customer_id"},
                "total": {"$sum": 1},
                **{name: status(name) for name in _STATUSES},
            }
        },
        {
            "$group": {
                "_id": "$_id.channel",
                "total": {"$sum": "$total"},
                **{name: {"$sum": f"${name}"} for name in _STATUSES},
                "reached": {"$sum": {"$cond": [{"$gt": ["$succeeded", 0]}, 1, 0]}},
            }
        },
        {"$sort": {"_id": 1}},
    ]
    return Aggregation(DELIVERIES, pipeline)


def from_rows(rows: list[Document]) -> list[DeliveryCounts]:
    """The counts of each channel row of `aggregation`, in row order."""
    return [
        DeliveryCounts(
            channel=row["_id"],
            total=row["total"],
            succeeded=row["succeeded"],
            failed=row["failed"],
            pending=row["pending"],
            skipped=row["skipped"],
            customers_reached=row["reached"],
        )
        for row in rows
    ]
