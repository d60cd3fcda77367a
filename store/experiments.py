"""Experiment decisions on journey versions (`journey_versions`): which versions still wait for
a winner, and recording one once.

A version lists its splits with a winner rule in `open_experiments` when it is published;
recording a decision sets `experiment_decisions.<node>` only if it is not set yet and takes the
node off the list, in one update, so two API processes deciding at once record one winner.
"""

from __future__ import annotations

import builtins
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from domain.experiments import ExperimentDecision
from store.journeys import JourneyVersion, version_from_doc
from store.mongo import JOURNEY_VERSIONS, collection


class ExperimentRepository:
    """Open experiments and their decisions."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._versions = collection(db, JOURNEY_VERSIONS)

    async def open(self, limit: int = 100) -> builtins.list[JourneyVersion]:
        """Versions of any tenant with a split still waiting for its winner (the sweep's read,
        across tenants by design), oldest first."""
        found = self._versions.find({"open_experiments": {"$type": "string"}})
        return [version_from_doc(doc) async for doc in found.sort("published_at", 1).limit(limit)]

    async def record(self, version: JourneyVersion, decision: ExperimentDecision) -> bool:
        """Record `decision` on the version unless that split has one; whether it was recorded."""
        field = f"experiment_decisions.{decision.node_id}"
        result = await self._versions.update_one(
            {
                "tenant_id": version.tenant_id,
                "journey_id": version.journey_id,
                "version": version.version,
                field: {"$exists": False},
            },
            {
                "$set": {field: decision.model_dump()},
                "$pull": {"open_experiments": decision.node_id},
            },
        )
        return result.modified_count == 1
