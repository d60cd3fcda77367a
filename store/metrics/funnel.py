"""The funnel per node, over the transitions of the enrollments started in the range."""

from __future__ import annotations

from domain.journey import JourneyDefinition
from domain.metrics import EdgeCount, ExitCount, Funnel, FunnelNode, JourneyCut, TimeRange
from store.metrics.cohorts import enrollment_match
from store.metrics.expressions import Aggregation, is_set
from store.mongo import ENROLLMENTS, TRANSITIONS, Document


def aggregation(tenant_id: str, time_range: TimeRange, cut: JourneyCut) -> Aggregation:
    """One row of four facets: `started`, `entered` (per node), `proceeded` (per edge) and
    `exited` (per node and reason)."""
    pipeline: list[Document] = [
        *enrollment_match(tenant_id, time_range, cut),
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
                    {"$match": {"tenant_id": tenant_id, "$expr": run_of("$$st", "$$en")}},
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
        {"$facet": {"started": [{"$count": "n"}], **_FACETS}},
    ]
    return Aggregation(ENROLLMENTS, pipeline)


_CONVERTED_AFTER_FIRST_VISIT: Document = {
    "$and": [is_set("$converted_at"), {"$gte": ["$converted_at", "$first_at"]}]
}
_FACETS: dict[str, list[Document]] = {
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
                "converted": {"$sum": {"$cond": [_CONVERTED_AFTER_FIRST_VISIT, 1, 0]}},
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
                "_id": {"node": "$t.from", "reason": {"$ifNull": ["$t.reason", "$t.label"]}},
                "count": {"$sum": 1},
            }
        },
        {"$sort": {"_id.reason": 1}},
    ],
}


def from_rows(rows: list[Document], definition: JourneyDefinition | None) -> Funnel:
    """The funnel of `aggregation`'s row.

    Nodes come in `definition`'s order; nodes seen in transitions but absent from it (another
    version's) follow in id order, with kind `unknown`.
    """
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


def run_of(started: str, ended: str) -> Document:
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
