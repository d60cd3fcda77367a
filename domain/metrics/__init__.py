"""Metrics the private-domain field runs on: definitions and the arithmetic over raw counts.

- `definitions`: every metric defined once (name, formula, detail); the rate properties here
  and the GraphQL descriptions read them.
- `scope`: what a metric is computed over: a bounded `TimeRange` and a `Cut` (who).
- `models`: the raw counts the store's aggregations return and the rates derived from them.
"""

from domain.metrics.definitions import (
    CONTACT_ADDED,
    CONTACT_DELETED,
    ORDER_PAID,
    ORDER_REFUNDED,
    RETENTION_DAYS,
    RETENTION_WINDOW_DAYS,
    Definition,
)
from domain.metrics.models import (
    CommerceCounts,
    DeliveryCounts,
    EdgeCount,
    ExitCount,
    Funnel,
    FunnelNode,
    JourneyConversion,
    RetentionCohort,
    RetentionPoint,
    arpu_from_factors,
    day_window,
    overall_retention,
    safe_div,
)
from domain.metrics.scope import (
    MAX_RANGE,
    AudienceCut,
    ChannelCut,
    Cut,
    JourneyCut,
    TimeRange,
)

__all__ = [
    "CONTACT_ADDED",
    "CONTACT_DELETED",
    "MAX_RANGE",
    "ORDER_PAID",
    "ORDER_REFUNDED",
    "RETENTION_DAYS",
    "RETENTION_WINDOW_DAYS",
    "AudienceCut",
    "ChannelCut",
    "CommerceCounts",
    "Cut",
    "Definition",
    "DeliveryCounts",
    "EdgeCount",
    "ExitCount",
    "Funnel",
    "FunnelNode",
    "JourneyConversion",
    "JourneyCut",
    "RetentionCohort",
    "RetentionPoint",
    "TimeRange",
    "arpu_from_factors",
    "day_window",
    "overall_retention",
    "safe_div",
]
