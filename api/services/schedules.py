"""Scheduled and recurring segment entry on Temporal Schedules.

`create` makes a Temporal Schedule (cron in an IANA time zone, overlapping runs skipped) whose
runs start `SegmentEntryWorkflow`, each enrolling the segment as it is at that run
(`runtime.segment_entry`), and records it in `entry_schedules` for listing. Temporal checks the
cron expression; one it refuses is `InvalidInputError` with nothing recorded. `delete` removes
both. What is listed reads the next run times from Temporal.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode

from api.services.ports import Clock, utc_now
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from store.customers.search import CustomerSearch
from store.database import Store
from store.entry_schedules import EntrySchedule
from workflows.segment_entry import TASK_QUEUE, SegmentEntryInput, SegmentEntryWorkflow

MAX_SCHEDULES_PER_JOURNEY = 20


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule with its next runs (from Temporal; empty when it cannot tell)."""

    schedule: EntrySchedule
    next_runs: list[datetime]


class ScheduleService:
    """The tenant's scheduled segment entries."""

    def __init__(self, store: Store, temporal: Client, clock: Clock = utc_now) -> None:
        self._store = store
        self._temporal = temporal
        self._clock = clock

    async def create(
        self,
        tenant_id: str,
        journey_id: str,
        search: CustomerSearch,
        cron: str,
        timezone: str,
        *,
        per_second: float | None,
        created_by: str,
    ) -> ScheduleView:
        """Schedule the segment's entry; `NotFoundError`, `ConflictError` (not published, too
        many schedules), `InvalidInputError` (time zone, cron)."""
        journey = await self._store.journeys.get(tenant_id, journey_id)
        if journey.status != "published":
            raise ConflictError(f"journey {journey_id!r} is {journey.status}; publish it first")
        try:
            ZoneInfo(timezone)
        except (ValueError, KeyError, OSError):
            raise InvalidInputError.single("input.timezone", "not an IANA time zone") from None
        existing = await self._store.entry_schedules.list(tenant_id, journey_id)
        if len(existing) >= MAX_SCHEDULES_PER_JOURNEY:
            raise ConflictError(f"a journey has at most {MAX_SCHEDULES_PER_JOURNEY} schedules")
        schedule_id = f"{tenant_id}:entry:{journey_id}:{secrets.token_hex(4)}"
        segment = asdict(search)
        entry = SegmentEntryInput(
            tenant_id=tenant_id,
            journey_id=journey_id,
            schedule_id=schedule_id,
            segment=segment,
            per_second=per_second,
        )
        try:
            await self._temporal.create_schedule(
                schedule_id,
                Schedule(
                    action=ScheduleActionStartWorkflow(
                        SegmentEntryWorkflow.run,
                        entry,
                        id=f"{schedule_id}:run",
                        task_queue=TASK_QUEUE,
                    ),
                    spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=timezone),
                    policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
                ),
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.INVALID_ARGUMENT:
                raise InvalidInputError.single("input.cron", exc.message) from exc
            raise
        record = EntrySchedule(
            id=schedule_id,
            tenant_id=tenant_id,
            journey_id=journey_id,
            cron=cron,
            timezone=timezone,
            segment=segment,
            per_second=per_second,
            created_by=created_by,
            created_at=self._clock(),
        )
        await self._store.entry_schedules.add(record)
        return await self._view(record)

    async def list(self, tenant_id: str, journey_id: str | None = None) -> list[ScheduleView]:
        """The tenant's schedules (of one journey), oldest first, with their next runs."""
        return [
            await self._view(schedule)
            for schedule in await self._store.entry_schedules.list(tenant_id, journey_id)
        ]

    async def delete(self, tenant_id: str, schedule_id: str) -> EntrySchedule:
        """Stop and forget one of the tenant's schedules (answered as it was);
        `NotFoundError` for another tenant's or an unknown one."""
        found = await self._store.entry_schedules.get(tenant_id, schedule_id)
        if found is None:
            raise NotFoundError("scheduled entry", schedule_id)
        try:
            await self._temporal.get_schedule_handle(schedule_id).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        await self._store.entry_schedules.remove(tenant_id, schedule_id, self._clock())
        return found

    async def _view(self, schedule: EntrySchedule) -> ScheduleView:
        try:
            described = await self._temporal.get_schedule_handle(schedule.id).describe()
        except RPCError:
            return ScheduleView(schedule, [])
        return ScheduleView(schedule, list(described.info.next_action_times[:5]))
