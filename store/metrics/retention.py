"""Retention: per key and entry week, day 7/30/90 retention (see `domain.metrics.definitions`)."""

from __future__ import annotations

from datetime import datetime

from domain.metrics import (
    CONTACT_ADDED,
    CONTACT_DELETED,
    RETENTION_DAYS,
    RETENTION_WINDOW_DAYS,
    Cut,
    RetentionCohort,
    RetentionPoint,
    TimeRange,
)
from store.metrics.cohorts import cohort
from store.metrics.expressions import DAY_MS, Aggregation, Key, cohort_events
from store.mongo import Document


def aggregation(tenant_id: str, time_range: TimeRange, cut: Cut, as_of: datetime) -> Aggregation:
    """One row per key and entry week, oldest week first; only days ended by `as_of` count."""
    source, pipeline = cohort(tenant_id, time_range, cut)
    horizon_ms = (max(RETENTION_DAYS) + 1) * DAY_MS
    pipeline += [
        cohort_events(
            [
                {
                    "$match": {
                        "tenant_id": tenant_id,
                        "$expr": {
                            "$and": [
                                {"$lt": ["$timestamp", {"$add": ["$$at", horizon_ms]}]},
                                # Contact events before entering still decide
                                # reachability; other events count from entering on.
                                {
                                    "$or": [
                                        {"$in": ["$type", [CONTACT_ADDED, CONTACT_DELETED]]},
                                        {"$gte": ["$timestamp", "$$at"]},
                                    ]
                                },
                            ]
                        },
                    }
                },
                {"$project": {"_id": 0, "type": 1, "timestamp": 1}},
            ],
            into="ev",
        ),
        {
            "$project": {
                "key": 1,
                **{f"d{day}": retained(day, as_of) for day in RETENTION_DAYS},
                "at": 1,
            }
        },
        {
            "$group": {
                "_id": {
                    "key": "$key",
                    "week": {
                        "$dateTrunc": {"date": "$at", "unit": "week", "startOfWeek": "monday"}
                    },
                },
                "entered": {"$sum": 1},
                **{
                    f"{flag}{day}": {"$sum": {"$cond": [f"$d{day}.{flag}", 1, 0]}}
                    for day in RETENTION_DAYS
                    for flag in ("eligible", "retained")
                },
            }
        },
        {"$sort": {"_id.week": 1}},
    ]
    return Aggregation(source, pipeline)


def from_rows(rows: list[Document]) -> dict[Key, list[RetentionCohort]]:
    """The weekly cohorts per key of `aggregation`'s rows, in row order."""
    result: dict[Key, list[RetentionCohort]] = {}
    for row in rows:
        result.setdefault(row["_id"].get("key"), []).append(
            RetentionCohort(
                week_start=row["_id"]["week"],
                entered=row["entered"],
                points=[
                    RetentionPoint(
                        day=day, eligible=row[f"eligible{day}"], retained=row[f"retained{day}"]
                    )
                    for day in RETENTION_DAYS
                ],
            )
        )
    return result


def retained(day: int, as_of: datetime) -> Document:
    """`{eligible, retained}` of one customer for day-`day` retention (see `domain.metrics`)."""
    start: Document = {"$add": ["$at", (day - RETENTION_WINDOW_DAYS + 1) * DAY_MS]}
    end: Document = {"$add": ["$at", (day + 1) * DAY_MS]}
    eligible: Document = {"$lte": [end, as_of]}
    active: Document = {
        "$anyElementTrue": [
            {
                "$map": {
                    "input": "$ev",
                    "as": "e",
                    "in": {
                        "$and": [
                            {"$ne": ["$$e.type", CONTACT_DELETED]},
                            {"$gte": ["$$e.timestamp", start]},
                            {"$lt": ["$$e.timestamp", end]},
                        ]
                    },
                }
            }
        ]
    }
    # The customer's last WeCom contact event before the end of day N (null when none).
    last_contact: Document = {
        "$reduce": {
            "input": {
                "$filter": {
                    "input": "$ev",
                    "as": "e",
                    "cond": {
                        "$and": [
                            {"$in": ["$$e.type", [CONTACT_ADDED, CONTACT_DELETED]]},
                            {"$lt": ["$$e.timestamp", end]},
                        ]
                    },
                }
            },
            "initialValue": None,
            "in": {
                "$cond": [
                    {
                        "$or": [
                            {"$eq": ["$$value", None]},
                            {"$gte": ["$$this.timestamp", "$$value.timestamp"]},
                        ]
                    },
                    "$$this",
                    "$$value",
                ]
            },
        }
    }
    last_type: Document = {"$let": {"vars": {"last": last_contact}, "in": "$$last.type"}}
    reachable: Document = {"$ne": [{"$ifNull": [last_type, None]}, CONTACT_DELETED]}
    return {"eligible": eligible, "retained": {"$and": [eligible, reachable, active]}}
