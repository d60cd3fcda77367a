"""Journey reads: journeys, templates, the channel catalog, and validation of a definition."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import Connection, Problem, described_field, page_limit
from api.graphql.context import Info
from api.graphql.journeys.types import ChannelAction, Journey, JourneyStatus, Template
from domain.errors import NotFound
from domain.templates import TEMPLATES


@strawberry.type
class JourneyQueries:
    @described_field("The tenant's journeys in creation order.")
    async def journeys(
        self,
        info: Info,
        status: JourneyStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Journey]:
        page = await info.context.services.store.journeys.list(
            info.context.tenant_id,
            status=None if status is None else status.value,
            cursor=after,
            limit=page_limit(first),
        )
        return Connection.of(page, Journey.of)

    @described_field("One journey, or null when the tenant has none with this id.")
    async def journey(self, info: Info, id: strawberry.ID) -> Journey | None:
        try:
            model = await info.context.services.store.journeys.get(info.context.tenant_id, id)
        except NotFound:
            return None
        return Journey.of(model)

    @described_field("Every problem of a definition, without saving anything.")
    def validate_journey(self, info: Info, definition: JSON) -> list[Problem]:
        _, problems = info.context.services.journeys.validate(definition)
        return [Problem.of(p) for p in problems]

    @described_field("Journeys to start from.")
    def templates(self) -> list[Template]:
        return [Template.of(template) for template in TEMPLATES.values()]

    @described_field("Channel actions journeys may use, with their params schemas.")
    def channels(self, info: Info) -> list[ChannelAction]:
        return [ChannelAction.of(item) for item in info.context.services.channels.describe()]
