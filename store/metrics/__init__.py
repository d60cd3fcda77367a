"""Metrics computed inside MongoDB: every number here is an aggregation, never a Python loop over
documents. Python only assembles the few summary rows each pipeline returns into domain models.

One module per concept, each an `aggregation(...)` builder (the collection and pipeline) and a
pure `from_rows(rows)` turning its rows into `domain.metrics` models (unit-tested without
MongoDB): `commerce` (the levers), `retention`, `audience` (private-domain users),
`deliveries`, `conversion` (journey conversion and time-to-convert) and `funnel`. `cohorts`
holds the pipeline prefix every cohort metric starts from (`{cid, at, key}` per customer who
entered), so conversion, frequency, AOV, ARPU and retention share one population and the ARPU
identity holds. `MetricsRepository` runs them, each bounded by `maxTimeMS`.

Stages used need MongoDB 5.0 (`$setWindowFields`, `$dateTrunc`, `$lookup` with both
`localField` and `pipeline`). The definitions are `domain.metrics.definitions`'s.
"""

from store.metrics.repository import MetricsRepository

__all__ = ["MetricsRepository"]
