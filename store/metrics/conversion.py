"""Journey conversion: enrollments started in the range, how many reached a goal, and the exact
median and mean time it took (the median ranks durations with `$setWindowFields`, since
`$median` is only approximate)."""

from __future__ import annotations

from datetime import timedelta

from domain.metrics import JourneyConversion, JourneyCut, TimeRange
from store.metrics.cohorts import enrollment_match
from store.metrics.expressions import Aggregation, is_set
from store.mongo import ENROLLMENTS, Document

_ALL: Document = {"documents": ["unbounded", "unbounded"]}


def aggregation(tenant_id: str, time_range: TimeRange, cut: JourneyCut) -> Aggregation:
    """One row of two facets: `counts` (started, converted) and `durations` (median, mean)."""
    half: Document = {"$divide": [{"$add": ["$n", 1]}, 2]}
    pipeline: list[Document] = [
        *enrollment_match(tenant_id, time_range, cut),
        {
            "$facet": {
                "counts": [
                    {
                        "$group": {
                            "_id": None,
                            "started": {"$sum": 1},
                            "converted": {"$sum": {"$cond": [is_set("$converted_at"), 1, 0]}},
                        }
                    }
                ],
                "durations": [
                    {"$match": {"converted_at": {"$ne": None}}},
                    {"$project": {"d": {"$subtract": ["$converted_at", "$started_at"]}}},
                    {
                        "$setWindowFields": {
                            "sortBy": {"d": 1},
                            "output": {
                                "rank": {"$documentNumber": {}},
                                "n": {"$count": {}, "window": _ALL},
                                "mean": {"$avg": "$d", "window": _ALL},
                            },
                        }
                    },
                    # The median is the middle duration, or the mean of the middle two.
                    {"$match": {"$expr": {"$in": ["$rank", [{"$floor": half}, {"$ceil": half}]]}}},
                    {
                        "$group": {
                            "_id": None,
                            "median": {"$avg": "$d"},
                            "mean": {"$first": "$mean"},
                        }
                    },
                ],
            }
        },
    ]
    return Aggregation(ENROLLMENTS, pipeline)


def from_rows(rows: list[Document]) -> JourneyConversion:
    """The conversion of `aggregation`'s row (zero counts when there is none)."""
    counts = rows[0]["counts"][0] if rows and rows[0]["counts"] else {}
    durations = rows[0]["durations"][0] if rows and rows[0]["durations"] else {}
    return JourneyConversion(
        started=counts.get("started", 0),
        converted=counts.get("converted", 0),
        median_time_to_convert=_millis(durations.get("median")),
        mean_time_to_convert=_millis(durations.get("mean")),
    )


def _millis(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(milliseconds=value)
