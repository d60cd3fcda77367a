"""Simulation results (`simulations`): one document per `simulate` operation, under its id.

The operation (`store.operations`) carries the request and the progress; the result, which is
larger (a time series per node and per channel), is kept apart so that following an
operation's progress never reads it. A result is written once, when the run ends, and expires
`RETENTION` after (a TTL index): it is a forecast, cheap to run again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store.mongo import SIMULATIONS, Document, collection

RETENTION = timedelta(days=30)


class SimulationRepository:
    """The `simulations` collection: results as JSON-ready documents, tenant-scoped."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._simulations = collection(db, SIMULATIONS)

    async def save(self, tenant_id: str, operation_id: str, result: Document, at: datetime) -> None:
        """Store (or replace, after a takeover ran it again) the operation's result."""
        await self._simulations.replace_one(
            {"_id": operation_id, "tenant_id": tenant_id},
            {"tenant_id": tenant_id, "result": result, "created_at": at},
            upsert=True,
        )

    async def get(self, tenant_id: str, operation_id: str) -> Document | None:
        """The operation's result, or None (still running, failed, expired, another tenant's)."""
        doc = await self._simulations.find_one({"_id": operation_id, "tenant_id": tenant_id})
        return None if doc is None else dict(doc["result"])
