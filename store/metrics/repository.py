"""The metrics repository: runs each concept's aggregation and turns its rows into models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from domain.experiments import VariantCounts
from domain.journey import JourneyDefinition
from domain.metrics import (
    AudienceCut,
    ChannelCut,
    CommerceCounts,
    Cut,
    DeliveryCounts,
    Funnel,
    JourneyConversion,
    JourneyCut,
    RetentionCohort,
    TimeRange,
)
from store.metrics import (
    audience,
    commerce,
    conversion,
    deliveries,
    experiments,
    funnel,
    retention,
)
from store.metrics.expressions import Aggregation, Key
from store.mongo import (
    CUSTOMERS,
    DEFAULT_MAX_TIME_MS,
    DELIVERIES,
    ENROLLMENTS,
    EVENTS,
    TRANSITIONS,
    Document,
    bounded_aggregate,
    collection,
)


class MetricsRepository:
    """Aggregations over customers, events, enrollments, transitions and deliveries."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._collections: dict[str, AsyncCollection[Document]] = {
            name: collection(db, name)
            for name in (CUSTOMERS, EVENTS, ENROLLMENTS, TRANSITIONS, DELIVERIES)
        }
        self._max_time_ms = max_time_ms

    async def _run(self, aggregation: Aggregation) -> list[Document]:
        # Every metric is one aggregation through here, each bounded by maxTimeMS.
        return await bounded_aggregate(
            self._collections[aggregation.collection],
            aggregation.pipeline,
            self._max_time_ms,
            "the metrics aggregation",
        )

    async def commerce(
        self, tenant_id: str, time_range: TimeRange, cut: Cut
    ) -> dict[Key, CommerceCounts]:
        """Per key: the customers who entered and their paid orders from entering to the end."""
        rows = await self._run(commerce.aggregation(tenant_id, time_range, cut))
        return commerce.from_rows(rows)

    async def retention(
        self, tenant_id: str, time_range: TimeRange, cut: Cut, as_of: datetime
    ) -> dict[Key, list[RetentionCohort]]:
        """Per key: day 7/30/90 retention per entry week; only days ended by `as_of` count."""
        rows = await self._run(retention.aggregation(tenant_id, time_range, cut, as_of))
        return retention.from_rows(rows)

    async def private_domain_users(
        self, tenant_id: str, time_range: TimeRange, cut: AudienceCut
    ) -> dict[Key, int]:
        """Per key: customers first touched before the range's end, reachable at its end."""
        rows = await self._run(audience.aggregation(tenant_id, time_range, cut))
        return audience.from_rows(rows)

    async def deliveries(
        self, tenant_id: str, time_range: TimeRange, cut: ChannelCut
    ) -> list[DeliveryCounts]:
        """Per channel: deliveries created in the range by status, and customers reached."""
        rows = await self._run(deliveries.aggregation(tenant_id, time_range, cut))
        return deliveries.from_rows(rows)

    async def journey_conversion(
        self, tenant_id: str, time_range: TimeRange, cut: JourneyCut
    ) -> JourneyConversion:
        """Enrollments started in the range, how many converted, and how long it took."""
        rows = await self._run(conversion.aggregation(tenant_id, time_range, cut))
        return conversion.from_rows(rows)

    async def experiments(
        self,
        tenant_id: str,
        time_range: TimeRange,
        cut: JourneyCut,
        split_ids: Sequence[str],
    ) -> dict[str, list[VariantCounts]]:
        """Per split node, its variants' enrollments, conversions and revenue (started in the
        range)."""
        if not split_ids:
            return {}
        rows = await self._run(experiments.aggregation(tenant_id, time_range, cut, split_ids))
        return experiments.from_rows(rows)

    async def funnel(
        self,
        tenant_id: str,
        time_range: TimeRange,
        cut: JourneyCut,
        definition: JourneyDefinition | None,
    ) -> Funnel:
        """Per-node counts over the transitions of the enrollments started in the range, in
        `definition`'s node order (nodes of other versions follow, kind `unknown`)."""
        rows = await self._run(funnel.aggregation(tenant_id, time_range, cut))
        return funnel.from_rows(rows, definition)
