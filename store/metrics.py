"""Metrics computed inside MongoDB: every number here is an aggregation, never a Python loop over
documents. Python only assembles the few summary rows each pipeline returns into domain models.

The definitions are `domain.metrics`'s. One pipeline prefix per cut (`_cohort`) yields one
`{cid, at, key}` per customer who entered (`key` groups the results: a hook, a channel, or
None), so conversion, frequency, AOV, ARPU and retention share one population and the ARPU
identity holds. Stages used need MongoDB 5.0 (`$setWindowFields`, `$dateTrunc`, `$lookup`
with both `localField` and `pipeline`); the exact median ranks the durations with
`$setWindowFields` rather than `$median`, which MongoDB only computes approximately.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from domain.journey import JourneyDefinition
from domain.metrics import (
    CONTACT_ADDED,
    CONTACT_DELETED,
    ORDER_PAID,
    RETENTION_DAYS,
    RETENTION_WINDOW_DAYS,
    AudienceCut,
    ChannelCut,
    CommerceCounts,
    Cut,
    DeliveryCounts,
    EdgeCount,
    ExitCount,
    Funnel,
    FunnelNode,
    JourneyConversion,
    JourneyCut,
    RetentionCohort,
    RetentionPoint,
    TimeRange,
)
from store.mongo import (
    CUSTOMERS,
    DEFAULT_MAX_TIME_MS,
    DELIVERIES,
    ENROLLMENT_RUNS,
    ENROLLMENTS,
    EVENTS,
    TRANSITIONS,
    Document,
    bounded_aggregate,
    collection,
)

DAY_MS = 24 * 60 * 60 * 1000
Key = str | None

# Revenue of a paid order: `properties.total`, else `properties.amount`; a number or a numeric
# string, anything else (or a negative amount) counts 0.
_REVENUE: Document = {
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
_NO_KEY: Document = {"$literal": None}


def _in_range(time_range: TimeRange) -> Document:
    return {"$gte": time_range.start, "$lt": time_range.end}


def _is_set(path: str) -> Document:
    """True when the field holds a value (neither null nor missing)."""
    return {"$ne": [{"$ifNull": [path, None]}, None]}


class MetricsRepository:
    """Aggregations over customers, events, enrollments, transitions and deliveries."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._collections: dict[str, AsyncCollection[Document]] = {
            name: collection(db, name)
            for name in (CUSTOMERS, EVENTS, ENROLLMENTS, TRANSITIONS, DELIVERIES)
        }
        self._max_time_ms = max_time_ms

    async def _run(self, name: str, pipeline: list[Document]) -> list[Document]:
        # Every metric is one aggregation through here, each bounded by maxTimeMS.
        return await bounded_aggregate(
            self._collections[name], pipeline, self._max_time_ms, "the metrics aggregation"
        )

    # --- cohorts ------------------------------------------------------------------------------

    def _enrollment_match(
        self, tenant_id: str, time_range: TimeRange, cut: JourneyCut
    ) -> list[Document]:
        """Enrollments of the cut started in the range (first-touch hook checked on the customer).

        One row per run: the earlier runs of re-entered enrollments (`enrollment_runs`, whose
        `enrollment_id` names the enrollment) count as well as the current projections.
        """
        match: Document = {
            "tenant_id": tenant_id,
            "journey_id": cut.journey_id,
            "started_at": _in_range(time_range),
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

    def _cohort(
        self, tenant_id: str, time_range: TimeRange, cut: Cut
    ) -> tuple[str, list[Document]]:
        """The collection and pipeline prefix yielding one `{cid, at, key}` per entered customer."""
        if isinstance(cut, AudienceCut):
            match: Document = {
                "tenant_id": tenant_id,
                "merged_into": None,
                "created_at": _in_range(time_range),
            }
            if cut.hook is not None:
                match["first_touch_hook"] = cut.hook
            key: Document = {"$ifNull": ["$first_touch_hook", None]} if cut.by_hook else _NO_KEY
            return CUSTOMERS, [
                {"$match": match},
                {"$project": {"_id": 0, "cid": "$_id", "at": "$created_at", "key": key}},
            ]
        if isinstance(cut, JourneyCut):
            return ENROLLMENTS, [
                *self._enrollment_match(tenant_id, time_range, cut),
                {"$group": {"_id": "$customer_id", "at": {"$min": "$started_at"}}},
                {"$project": {"_id": 0, "cid": "$_id", "at": 1, "key": _NO_KEY}},
            ]
        delivered: Document = {
            "tenant_id": tenant_id,
            "status": "succeeded",
            "created_at": _in_range(time_range),
        }
        if cut.journey_id is not None:
            delivered["journey_id"] = cut.journey_id
        return DELIVERIES, [
            {"$match": delivered},
            {
                "$group": {
                    "_id": {"cid": "$customer_id", "key": "$channel"},
                    "at": {"$min": "$created_at"},
                }
            },
            {"$project": {"_id": 0, "cid": "$_id.cid", "key": "$_id.key", "at": 1}},
        ]

    # --- commerce -----------------------------------------------------------------------------

    async def commerce(
        self, tenant_id: str, time_range: TimeRange, cut: Cut
    ) -> dict[Key, CommerceCounts]:
        """Per key: the customers who entered and their paid orders from entering to the end."""
        source, pipeline = self._cohort(tenant_id, time_range, cut)
        pipeline += [
            _cohort_events(
                [
                    {
                        "$match": {
                            "tenant_id": tenant_id,
                            "type": ORDER_PAID,
                            "timestamp": {"$lt": time_range.end},
                            "$expr": {"$gte": ["$timestamp", "$$at"]},
                        }
                    },
                    {"$group": {"_id": None, "n": {"$sum": 1}, "revenue": {"$sum": _REVENUE}}},
                ],
                into="paid",
            ),
            {
                "$project": {
                    "key": 1,
                    "n": _total("$paid", "n"),
                    "revenue": _total("$paid", "revenue"),
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
        return {
            row["_id"]: CommerceCounts(
                entered=row["entered"],
                buyers=row["buyers"],
                repeat_buyers=row["repeat_buyers"],
                orders=row["orders"],
                revenue=float(row["revenue"]),
            )
            for row in await self._run(source, pipeline)
        }

    # --- retention ----------------------------------------------------------------------------

    async def retention(
        self, tenant_id: str, time_range: TimeRange, cut: Cut, as_of: datetime
    ) -> dict[Key, list[RetentionCohort]]:
        """Per key: day 7/30/90 retention per entry week; only days ended by `as_of` count."""
        source, pipeline = self._cohort(tenant_id, time_range, cut)
        horizon_ms = (max(RETENTION_DAYS) + 1) * DAY_MS
        pipeline += [
            _cohort_events(
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
                                            {
                                                "$in": [
                                                    "$type",
                                                    [CONTACT_ADDED, CONTACT_DELETED],
                                                ]
                                            },
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
                    **{f"d{day}": _retained(day, as_of) for day in RETENTION_DAYS},
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
        result: dict[Key, list[RetentionCohort]] = {}
        for row in await self._run(source, pipeline):
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

    # --- private-domain users -----------------------------------------------------------------

    async def private_domain_users(
        self, tenant_id: str, time_range: TimeRange, cut: AudienceCut
    ) -> dict[Key, int]:
        """Per key: customers first touched before the range's end, reachable at its end."""
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
                                    {"$in": ["wecom_external_userid", kinds]},
                                    {"$eq": [_total("$last_contact", "deleted"), 0]},
                                ]
                            },
                            {"$in": ["openid", kinds]},
                            {
                                "$and": [
                                    {"$in": ["phone", kinds]},
                                    {"$eq": ["$consent.sms", True]},
                                ]
                            },
                        ]
                    }
                }
            },
            {"$group": {"_id": key, "n": {"$sum": 1}}},
        ]
        return {row["_id"]: int(row["n"]) for row in await self._run(CUSTOMERS, pipeline)}

    # --- deliveries ---------------------------------------------------------------------------

    async def deliveries(
        self, tenant_id: str, time_range: TimeRange, cut: ChannelCut
    ) -> list[DeliveryCounts]:
        """Per channel: deliveries created in the range by status, and customers reached."""
        match: Document = {"tenant_id": tenant_id, "created_at": _in_range(time_range)}
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
                    **{name: status(name) for name in ("succeeded", "failed", "pending")},
                }
            },
            {
                "$group": {
                    "_id": "$_id.channel",
                    "total": {"$sum": "$total"},
                    **{name: {"$sum": f"${name}"} for name in ("succeeded", "failed", "pending")},
                    "reached": {"$sum": {"$cond": [{"$gt": ["$succeeded", 0]}, 1, 0]}},
                }
            },
            {"$sort": {"_id": 1}},
        ]
        return [
            DeliveryCounts(
                channel=row["_id"],
                total=row["total"],
                succeeded=row["succeeded"],
                failed=row["failed"],
                pending=row["pending"],
                customers_reached=row["reached"],
            )
            for row in await self._run(DELIVERIES, pipeline)
        ]

    # --- journeys -----------------------------------------------------------------------------

    async def journey_conversion(
        self, tenant_id: str, time_range: TimeRange, cut: JourneyCut
    ) -> JourneyConversion:
        """Enrollments started in the range, how many converted, and how long it took."""
        half: Document = {"$divide": [{"$add": ["$n", 1]}, 2]}
        pipeline: list[Document] = [
            *self._enrollment_match(tenant_id, time_range, cut),
            {
                "$facet": {
                    "counts": [
                        {
                            "$group": {
                                "_id": None,
                                "started": {"$sum": 1},
                                "converted": {"$sum": {"$cond": [_is_set("$converted_at"), 1, 0]}},
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
                                    "n": {
                                        "$count": {},
                                        "window": {"documents": ["unbounded", "unbounded"]},
                                    },
                                    "mean": {
                                        "$avg": "$d",
                                        "window": {"documents": ["unbounded", "unbounded"]},
                                    },
                                },
                            }
                        },
                        # The median is the middle duration, or the mean of the middle two.
                        {
                            "$match": {
                                "$expr": {"$in": ["$rank", [{"$floor": half}, {"$ceil": half}]]}
                            }
                        },
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
        rows = await self._run(ENROLLMENTS, pipeline)
        counts = rows[0]["counts"][0] if rows and rows[0]["counts"] else {}
        durations = rows[0]["durations"][0] if rows and rows[0]["durations"] else {}
        return JourneyConversion(
            started=counts.get("started", 0),
            converted=counts.get("converted", 0),
            median_time_to_convert=_millis(durations.get("median")),
            mean_time_to_convert=_millis(durations.get("mean")),
        )

    async def funnel(
        self,
        tenant_id: str,
        time_range: TimeRange,
        cut: JourneyCut,
        definition: JourneyDefinition | None,
    ) -> Funnel:
        """Per-node counts over the transitions of the enrollments started in the range.

        Nodes come in `definition`'s order; nodes seen in transitions but absent from it (another
        version's) follow in id order, with kind `unknown`.
        """
        pipeline: list[Document] = [
            *self._enrollment_match(tenant_id, time_range, cut),
            {
                "$project": {
                    "converted_at": 1,
                    "started_at": 1,
                    "ended_at": 1,
                    "eid": {"$ifNull": ["$enrollment_id", "$_id"]},
                }
            },
            {
                "$lookup": {
                    "from": TRANSITIONS,
                    "localField": "eid",
                    "foreignField": "enrollment_id",
                    "let": {"st": "$started_at", "en": "$ended_at"},
                    "pipeline": [
                        {"$match": {"tenant_id": tenant_id, "$expr": _of_run("$$st", "$$en")}},
                        {
                            "$project": {
                                "_id": 0,
                                "from": "$from_node",
                                "to": "$to_node",
                                "label": 1,
                                "reason": 1,
                                "at": 1,
                            }
                        },
                    ],
                    "as": "t",
                }
            },
            {
                "$facet": {
                    "started": [{"$count": "n"}],
                    "entered": [
                        {"$unwind": "$t"},
                        {"$match": {"t.to": {"$ne": None}}},
                        {
                            "$group": {
                                "_id": {"node": "$t.to", "e": "$_id"},
                                "visits": {"$sum": 1},
                                "first_at": {"$min": "$t.at"},
                                "converted_at": {"$first": "$converted_at"},
                            }
                        },
                        {
                            "$group": {
                                "_id": "$_id.node",
                                "entered": {"$sum": "$visits"},
                                "enrollments": {"$sum": 1},
                                "converted": {
                                    "$sum": {
                                        "$cond": [
                                            {
                                                "$and": [
                                                    _is_set("$converted_at"),
                                                    {"$gte": ["$converted_at", "$first_at"]},
                                                ]
                                            },
                                            1,
                                            0,
                                        ]
                                    }
                                },
                            }
                        },
                    ],
                    "proceeded": [
                        {"$unwind": "$t"},
                        {"$match": {"t.from": {"$ne": None}, "t.to": {"$ne": None}}},
                        {
                            "$group": {
                                "_id": {"node": "$t.from", "label": "$t.label", "to": "$t.to"},
                                "count": {"$sum": 1},
                            }
                        },
                        {"$sort": {"_id.label": 1, "_id.to": 1}},
                    ],
                    "exited": [
                        {"$unwind": "$t"},
                        {"$match": {"t.to": None, "t.from": {"$ne": None}}},
                        {
                            "$group": {
                                "_id": {
                                    "node": "$t.from",
                                    "reason": {"$ifNull": ["$t.reason", "$t.label"]},
                                },
                                "count": {"$sum": 1},
                            }
                        },
                        {"$sort": {"_id.reason": 1}},
                    ],
                }
            },
        ]
        rows = await self._run(ENROLLMENTS, pipeline)
        facets = rows[0]
        started = facets["started"][0]["n"] if facets["started"] else 0
        entered = {row["_id"]: row for row in facets["entered"]}
        proceeded: dict[str, list[EdgeCount]] = {}
        for row in facets["proceeded"]:
            edge = row["_id"]
            proceeded.setdefault(edge["node"], []).append(
                EdgeCount(label=edge["label"], target=edge["to"], count=row["count"])
            )
        exited: dict[str, list[ExitCount]] = {}
        for row in facets["exited"]:
            end = row["_id"]
            exited.setdefault(end["node"], []).append(
                ExitCount(reason=end["reason"], count=row["count"])
            )
        known = [] if definition is None else [(n.id, n.kind, n.name) for n in definition.nodes]
        seen = {node_id for node_id, _, _ in known}
        extra = sorted((set(entered) | set(proceeded) | set(exited)) - seen)
        nodes = []
        for node_id, kind, name in [*known, *[(n, "unknown", None) for n in extra]]:
            counts = entered.get(node_id, {})
            nodes.append(
                FunnelNode(
                    node_id=node_id,
                    kind=kind,
                    name=name,
                    entered=counts.get("entered", 0),
                    enrollments=counts.get("enrollments", 0),
                    converted=counts.get("converted", 0),
                    proceeded=proceeded.get(node_id, []),
                    exited=exited.get(node_id, []),
                )
            )
        return Funnel(started=started, nodes=nodes)


def _cohort_events(pipeline: list[Document], into: str) -> Document:
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


def _total(array: str, field: str) -> Document:
    """The sum of `field` over the documents of `array` (0 when empty).

    Mapped explicitly: not every server resolves a path through an array (`$array.field`).
    """
    return {"$sum": {"$map": {"input": array, "as": "item", "in": f"$$item.{field}"}}}


def _of_run(started: str, ended: str) -> Document:
    """Whether a transition is the run's: stamped with its start, or unstamped (recorded before
    runs were told apart) and taken while it ran (as `store.enrollments` reads them)."""
    unstamped: Document = {"$eq": [{"$ifNull": ["$run_started_at", None]}, None]}
    ran: Document = {"$or": [{"$eq": [{"$ifNull": [ended, None]}, None]}, {"$lte": ["$at", ended]}]}
    return {
        "$or": [
            {"$eq": ["$run_started_at", started]},
            {"$and": [unstamped, {"$gte": ["$at", started]}, ran]},
        ]
    }


def _millis(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(milliseconds=value)


def _retained(day: int, as_of: datetime) -> Document:
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
