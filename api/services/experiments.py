"""Experiments: each split's variants compared (for `journeyMetrics`), and the sweep that picks
winners when their rule says so (`domain.experiments`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from api.services.metrics import MetricsScope
from api.services.ports import Clock
from domain.experiments import ExperimentSummary, decide, summarize
from domain.journey import JourneyDefinition, SplitNode
from domain.metrics import JourneyCut, TimeRange
from domain.metrics.scope import MAX_RANGE
from store.database import Store
from store.journeys import JourneyVersion

logger = logging.getLogger(__name__)


def split_nodes(definition: JourneyDefinition) -> list[SplitNode]:
    """The definition's split nodes, in its order."""
    return [node for node in definition.nodes if isinstance(node, SplitNode)]


class ExperimentService:
    """Reads experiment results and records decided winners."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def summaries(
        self, scope: MetricsScope, cut: JourneyCut, definition: JourneyDefinition
    ) -> list[ExperimentSummary]:
        """Every split of `definition` with its variants over the scope's range, and the
        decisions recorded on the version the cut names (else the live one)."""
        splits = split_nodes(definition)
        if not splits:
            return []
        version = await self._version(scope.tenant_id, cut)
        counts = await self._store.metrics.experiments(
            scope.tenant_id, scope.range, cut, [node.id for node in splits]
        )
        decisions = version.experiment_decisions if version is not None else {}
        return [summarize(node, counts.get(node.id, []), decisions.get(node.id)) for node in splits]

    async def _version(self, tenant_id: str, cut: JourneyCut) -> JourneyVersion | None:
        journey = await self._store.journeys.get(tenant_id, cut.journey_id)
        number = cut.version if cut.version is not None else journey.live_version
        if number is None:
            return None
        return await self._store.journeys.get_version(tenant_id, cut.journey_id, number)

    async def decide_due(self, limit: int = 100) -> int:
        """Record the winners that are due on open experiments of any tenant; how many."""
        now = self._clock()
        decided = 0
        for version in await self._store.experiments.open(limit):
            splits = {node.id: node for node in split_nodes(version.definition)}
            cut = JourneyCut(journey_id=version.journey_id, version=version.version)
            # Enrollments started since the version was published (within a range's limit).
            start = max(version.published_at, now - MAX_RANGE + timedelta(seconds=1))
            window = TimeRange(start=start, end=now + timedelta(seconds=1))
            counts = await self._store.metrics.experiments(
                version.tenant_id, window, cut, version.open_experiments
            )
            for node_id in version.open_experiments:
                node = splits.get(node_id)
                if node is None:
                    continue
                decision = decide(node, counts.get(node_id, []), version.published_at, now)
                if decision is not None and await self._store.experiments.record(version, decision):
                    decided += 1
                    logger.info(
                        "experiment %s of journey %s v%d (tenant %s): %s wins (%s)",
                        node_id,
                        version.journey_id,
                        version.version,
                        version.tenant_id,
                        decision.variant_id,
                        decision.reason,
                    )
        return decided
