"""Scheduled segment entries (`entry_schedules`): what each Temporal Schedule of a tenant
enrolls, so they can be listed per tenant and journey without asking Temporal for all."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

from store.mongo import ENTRY_SCHEDULES, Document, collection, id_to_field


class EntrySchedule(BaseModel):
    """A recurring segment entry: the schedule `id` on Temporal and what it enrolls, when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tenant_id: str
    journey_id: str
    cron: str
    timezone: str
    segment: dict[str, Any] = Field(default_factory=dict)
    per_second: float | None = None
    created_by: str
    created_at: AwareDatetime


class EntryScheduleRepository:
    """The tenants' scheduled segment entries."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._schedules = collection(db, ENTRY_SCHEDULES)

    async def add(self, schedule: EntrySchedule) -> None:
        """Record a schedule made on Temporal."""
        doc: Document = schedule.model_dump(exclude={"id"}) | {"_id": schedule.id}
        await self._schedules.insert_one(doc)

    async def list(
        self, tenant_id: str, journey_id: str | None = None
    ) -> builtins.list[EntrySchedule]:
        """The tenant's schedules (of one journey), oldest first."""
        query: Document = {"tenant_id": tenant_id}
        if journey_id is not None:
            query["journey_id"] = journey_id
        found = self._schedules.find(query).sort("created_at", 1)
        return [EntrySchedule.model_validate(id_to_field(doc)) async for doc in found]

    async def get(self, tenant_id: str, schedule_id: str) -> EntrySchedule | None:
        """One of the tenant's schedules, or None."""
        doc = await self._schedules.find_one({"_id": schedule_id, "tenant_id": tenant_id})
        return None if doc is None else EntrySchedule.model_validate(id_to_field(doc))

    async def remove(self, tenant_id: str, schedule_id: str, now: datetime) -> bool:
        """Forget a schedule; whether the tenant had it."""
        result = await self._schedules.delete_one({"_id": schedule_id, "tenant_id": tenant_id})
        return result.deleted_count == 1
