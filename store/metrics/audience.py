"""Private-domain users: per key, customers first touched before the range's end and reachable
at its end (see `domain.metrics.definitions`)."""

from __future__ import annotations

from typing import Any

from domain.customers import EXTERNAL_USERID, PHONE
from domain.metrics import CONTACT_ADDED, CONTACT_DELETED, AudienceCut, TimeRange
from store.metrics.expressions import Aggregation, Key, total
from store.mongo import CUSTOMERS, EVENTS, Document


def aggregation(tenant_id: str, time_range: TimeRange, cut: AudienceCut) -> Aggregation:
    """One row per key: `{_id: key, n}`."""
    match: Document = {
        "tenant_id": tenant_id,
        "merged_into": None,
        "created_at": {"$lt": time_range.end},
    }
    if cut.hook is not None:
        match["first_touch_hook"] = cut.hook
    kinds: Document = {
        "$map": {"input": {"$ifNull": ["$identities", []]}, "as": "i", "in": "$$i.kind"}
    }
    # Consent records (`{status: "opted_in", ...}`), and documents written before them (`true`).
    sms_consent: Document = {
        "$or": [{"$eq": ["$consent.sms", True]}, {"$eq": ["$consent.sms.status", "opted_in"]}]
    }
    key: Any = {"$ifNull": ["$first_touch_hook", None]} if cut.by_hook else None
    pipeline: list[Document] = [
        {"$match": match},
        {
            "$lookup": {
                "from": EVENTS,
                "localField": "_id",
                "foreignField": "customer_id",
                "pipeline": [
                    {
                        "$match": {
                            "tenant_id": tenant_id,
                            "type": {"$in": [CONTACT_ADDED, CONTACT_DELETED]},
                            "timestamp": {"$lt": time_range.end},
                        }
                    },
                    {"$sort": {"timestamp": -1}},
                    {"$limit": 1},
                    {
                        "$project": {
                            "_id": 0,
                            "deleted": {"$cond": [{"$eq": ["$type", CONTACT_DELETED]}, 1, 0]},
                        }
                    },
                ],
                "as": "last_contact",
            }
        },
        {
            "$match": {
                "$expr": {
                    "$or": [
                        {
                            "$and": [
                                {"$in": [EXTERNAL_USERID, kinds]},
                                {"$eq": [total("$last_contact", "deleted"), 0]},
                            ]
                        },
                        {"$in": ["openid", kinds]},
                        {"$and": [{"$in": [PHONE, kinds]}, sms_consent]},
                    ]
                }
            }
        },
        {"$group": {"_id": key, "n": {"$sum": 1}}},
    ]
    return Aggregation(CUSTOMERS, pipeline)


def from_rows(rows: list[Document]) -> dict[Key, int]:
    """The users per key of `aggregation`'s rows."""
    return {row["_id"]: int(row["n"]) for row in rows}
