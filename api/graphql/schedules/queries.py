"""Reading the tenant's scheduled segment entries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.schedules.types import ScheduledEntry


@strawberry.type
class ScheduleQueries:
    @described_field("The tenant's scheduled segment entries (of one journey), oldest first.")
    async def scheduled_entries(
        self,
        info: Info,
        journey_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this journey's.")
        ] = None,
    ) -> list[ScheduledEntry]:
        views = await info.context.services.schedules.list(info.context.tenant_id, journey_id)
        return [ScheduledEntry.of(view) for view in views]
