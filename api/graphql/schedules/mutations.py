"""Making and removing scheduled segment entries (operators and admins)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.customers.queries import customer_search
from api.graphql.schedules.types import ScheduledEntry, ScheduleSegmentEntryInput
from api.services.schedules import ScheduleView
from domain.errors import ConflictError, InvalidInputError, NotFoundError

MAX_PER_SECOND = 1000.0

ScheduleSegmentEntryResult = Annotated[
    ScheduledEntry | NotFound | Conflict | InvalidInput | Forbidden,
    strawberry.union(
        "ScheduleSegmentEntryResult",
        description="The schedule; `NotFound` for an unknown journey; `Conflict` when it is not "
        "published or has 20 schedules; `InvalidInput` naming a bad cron, time zone or pace; "
        "`Forbidden` without `manage_enrollments`.",
    ),
]
DeleteScheduledEntryResult = Annotated[
    ScheduledEntry | NotFound | Forbidden,
    strawberry.union(
        "DeleteScheduledEntryResult",
        description="The schedule as it was (no next runs now); `NotFound` for another tenant's or an unknown schedule; "
        "`Forbidden` without `manage_enrollments`.",
    ),
]


@strawberry.type
class ScheduleMutations:
    @described_mutation(
        "Schedule recurring segment entry on a Temporal Schedule: at each run of `cron` (in "
        "`timezone`) the customers then matching `filter` are enrolled in the journey, as an "
        "`ENROLL` operation (see `enrollSegment`); overlapping runs are skipped. Needs an "
        "operator or admin key (`manage_enrollments`)."
    )
    async def schedule_segment_entry(
        self,
        info: Info,
        input: Annotated[ScheduleSegmentEntryInput, strawberry.argument(description="What, when.")],
    ) -> ScheduleSegmentEntryResult:
        if not info.context.can(Permission.MANAGE_ENROLLMENTS):
            return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
        if input.per_second is not None and not 0 < input.per_second <= MAX_PER_SECOND:
            return InvalidInput.of(
                InvalidInputError.single("input.perSecond", "must be above 0 and at most 1000")
            )
        try:
            view = await info.context.services.schedules.create(
                info.context.tenant_id,
                input.journey_id,
                customer_search(input.filter),
                input.cron,
                input.timezone,
                per_second=input.per_second,
                created_by=info.context.principal.key_id,
            )
        except NotFoundError as exc:
            return NotFound.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        return ScheduledEntry.of(view)

    @described_mutation(
        "Stop and remove a scheduled segment entry (runs under way finish). Needs an operator "
        "or admin key (`manage_enrollments`)."
    )
    async def delete_scheduled_entry(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The schedule id.")],
    ) -> DeleteScheduledEntryResult:
        if not info.context.can(Permission.MANAGE_ENROLLMENTS):
            return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
        try:
            removed = await info.context.services.schedules.delete(info.context.tenant_id, id)
        except NotFoundError as exc:
            return NotFound.of(exc)
        return ScheduledEntry.of(ScheduleView(removed, []))
