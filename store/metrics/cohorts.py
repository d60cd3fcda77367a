"""Who a metric is about: the pipeline prefix yielding one `{cid, at, key}` per entered customer.

Conversion, frequency, AOV, ARPU and retention all start from `cohort`, so they share one
population and the ARPU identity holds (see `domain.metrics.definitions`, "Cohort").
"""

from __future__ import annotations

from domain.metrics import AudienceCut, Cut, JourneyCut, TimeRange
from store.metrics.expressions import NO_KEY, Aggregation, in_range
from store.mongo import CUSTOMERS, DELIVERIES, ENROLLMENT_RUNS, ENROLLMENTS, Document


def enrollment_match(tenant_id: str, time_range: TimeRange, cut: JourneyCut) -> list[Document]:
    """Enrollments of the cut started in the range (first-touch hook checked on the customer).

    One row per run: the earlier runs of re-entered enrollments (`enrollment_runs`, whose
    `enrollment_id` names the enrollment) count as well as the current projections.
    """
    match: Document = {
        "tenant_id": tenant_id,
        "journey_id": cut.journey_id,
        "started_at": in_range(time_range),
    }
    if cut.version is not None:
        match["version"] = cut.version
    pipeline: list[Document] = [
        {"$match": match},
        {"$unionWith": {"coll": ENROLLMENT_RUNS, "pipeline": [{"$match": match}]}},
    ]
    if cut.hook is not None:
        pipeline += [
            {
                "$lookup": {
                    "from": CUSTOMERS,
                    "localField": "customer_id",
                    "foreignField": "_id",
                    "pipeline": [
                        {"$match": {"tenant_id": tenant_id, "first_touch_hook": cut.hook}},
                        {"$project": {"_id": 1}},
                    ],
                    "as": "hooked",
                }
            },
            {"$match": {"hooked.0": {"$exists": True}}},
            {"$unset": "hooked"},
        ]
    return pipeline


def cohort(tenant_id: str, time_range: TimeRange, cut: Cut) -> Aggregation:
    """The collection and pipeline prefix yielding one `{cid, at, key}` per entered customer."""
    if isinstance(cut, AudienceCut):
        match: Document = {
            "tenant_id": tenant_id,
            "merged_into": None,
            "created_at": in_range(time_range),
        }
        if cut.hook is not None:
            match["first_touch_hook"] = cut.hook
        key: Document = {"$ifNull": ["$first_touch_hook", None]} if cut.by_hook else NO_KEY
        return Aggregation(
            CUSTOMERS,
            [
                {"$match": match},
                {"$project": {"_id": 0, "cid": "$_id", "at": "$created_at", "key": key}},
            ],
        )
    if isinstance(cut, JourneyCut):
        return Aggregation(
            ENROLLMENTS,
            [
                *enrollment_match(tenant_id, time_range, cut),
                {"$group": {"_id": "$customer_id", "at": {"$min": "$started_at"}}},
                {"$project": {"_id": 0, "cid": "$_id", "at": 1, "key": NO_KEY}},
            ],
        )
    delivered: Document = {
        "tenant_id": tenant_id,
        "status": "succeeded",
        "created_at": in_range(time_range),
    }
    if cut.journey_id is not None:
        delivered["journey_id"] = cut.journey_id
    return Aggregation(
        DELIVERIES,
        [
            {"$match": delivered},
            {
                "$group": {
                    "_id": {"cid": "$customer_id", "key": "$channel"},
                    "at": {"$min": "$created_at"},
                }
            },
            {"$project": {"_id": 0, "cid": "$_id.cid", "key": "$_id.key", "at": 1}},
        ],
    )
