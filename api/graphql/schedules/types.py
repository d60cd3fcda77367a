"""Scheduled segment entry types and inputs."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql.customers.queries import CustomerFilter
from api.services.schedules import ScheduleView


@strawberry.type(
    description="A recurring segment entry: on each run of its cron (in its time zone) the "
    "customers matching its filter then are enrolled, as an `ENROLL` operation created by "
    "`schedule:<id>`, re-entry rules respected."
)
class ScheduledEntry:
    id: strawberry.ID = strawberry.field(description="The schedule id (on Temporal too).")
    journey_id: strawberry.ID = strawberry.field(description="The journey it enrolls into.")
    cron: str = strawberry.field(description="The cron expression, e.g. `0 10 * * 1`.")
    timezone: str = strawberry.field(description="The IANA time zone the cron is read in.")
    segment: JSON = strawberry.field(description="The customer search it enrolls, as stored.")
    per_second: float | None = strawberry.field(description="Enrollments per second, at most.")
    next_runs: list[datetime] = strawberry.field(description="Its next few runs (UTC).")
    created_by: str = strawberry.field(description="The API key that made it.")
    created_at: datetime = strawberry.field(description="When it was made.")

    @classmethod
    def of(cls, view: ScheduleView) -> ScheduledEntry:
        schedule = view.schedule
        return cls(
            id=strawberry.ID(schedule.id),
            journey_id=strawberry.ID(schedule.journey_id),
            cron=schedule.cron,
            timezone=schedule.timezone,
            segment=JSON(schedule.segment),
            per_second=schedule.per_second,
            next_runs=view.next_runs,
            created_by=schedule.created_by,
            created_at=schedule.created_at,
        )


@strawberry.input(description="A recurring segment entry.")
class ScheduleSegmentEntryInput:
    journey_id: strawberry.ID = strawberry.field(description="The published journey.")
    cron: str = strawberry.field(description="When, as a cron expression (`0 10 * * *`).")
    timezone: str = strawberry.field(
        default="Asia/Shanghai", description="The IANA time zone the cron is read in."
    )
    filter: CustomerFilter | None = strawberry.field(
        default=None, description="Who to enroll at each run; every customer when omitted."
    )
    per_second: float | None = strawberry.field(
        default=None, description="Enrollments per second, at most (up to 1000)."
    )
