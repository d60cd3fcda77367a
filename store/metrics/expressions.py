"""Expressions and stages the metric pipelines share (see `store.metrics`)."""

from __future__ import annotations

from typing import NamedTuple

from domain.metrics import TimeRange
from store.mongo import EVENTS, Document

DAY_MS = 24 * 60 * 60 * 1000
Key = str | None
"""What a metric's results are grouped by: a hook, a channel, or None (the whole cut)."""


class Aggregation(NamedTuple):
    """A pipeline and the collection it runs on."""

    collection: str
    pipeline: list[Document]


# Revenue of a paid order: `properties.total`, else `properties.amount`; a number or a numeric
# string, anything else (or a negative amount) counts 0.
REVENUE: Document = {
    "$max": [
        0,
        {
            "$convert": {
                "input": {"$ifNull": ["$properties.total", "$properties.amount"]},
                "to": "double",
                "onError": 0,
                "onNull": 0,
            }
        },
    ]
}


# A literal null: a bare null in `$project` is not an expression on every server.
NO_KEY: Document = {"$literal": None}


def in_range(time_range: TimeRange) -> Document:
    """A query condition: within `[start, end)`."""
    return {"$gte": time_range.start, "$lt": time_range.end}


def is_set(path: str) -> Document:
    """True when the field holds a value (neither null nor missing)."""
    return {"$ne": [{"$ifNull": [path, None]}, None]}


# What a refund gave back: `properties.amount`, by the same rules as a paid order's revenue.
REFUNDED: Document = {
    "$max": [
        0,
        {"$convert": {"input": "$properties.amount", "to": "double", "onError": 0, "onNull": 0}},
    ]
}


def total(array: str, field: str) -> Document:
    """The sum of `field` over the documents of `array` (0 when empty).

    Mapped explicitly: not every server resolves a path through an array (`$array.field`).
    """
    return {"$sum": {"$map": {"input": array, "as": "item", "in": f"$$item.{field}"}}}


def cohort_events(pipeline: list[Document], into: str) -> Document:
    """A `$lookup` of each cohort row's customer's events through `pipeline` (where `$$at` is
    when the customer entered), into the field `into`."""
    return {
        "$lookup": {
            "from": EVENTS,
            "localField": "cid",
            "foreignField": "customer_id",
            "let": {"at": "$at"},
            "pipeline": pipeline,
            "as": into,
        }
    }
