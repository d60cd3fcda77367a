"""Journey reads: journeys, templates, the channel catalog, and validation of a definition."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry

from api.graphql.common import (
    After,
    Connection,
    First,
    NotFound,
    described_field,
    page_limit,
)
from api.graphql.context import Info
from api.graphql.journeys.inputs import JourneyDefinitionSource
from api.graphql.journeys.types import (
    ChannelAction,
    Journey,
    JourneyStatus,
    JourneyTemplate,
    ValidationReport,
)
from domain.errors import NotFoundError
from domain.journey import JourneyStatus as JourneyStatusValue
from domain.templates import TEMPLATES

ValidateJourneyResult = Annotated[
    ValidationReport | NotFound,
    strawberry.union(
        "ValidateJourneyResult",
        description="The validation report, or `NotFound` for an unknown journey id.",
    ),
]


@strawberry.type
class JourneyQueries:
    @described_field("The tenant's journeys in creation order; `totalCount` is counted.")
    async def journeys(
        self,
        info: Info,
        status: Annotated[
            JourneyStatus | None,
            strawberry.argument(description="Only journeys with this status."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Journey]:
        repository = info.context.services.store.journeys
        tenant_id = info.context.tenant_id
        status_value = None if status is None else cast("JourneyStatusValue", status.value)
        page = await repository.list(
            tenant_id, status=status_value, cursor=after, limit=page_limit(first)
        )

        async def count() -> int:
            return await repository.count(tenant_id, status=status_value)

        return Connection.of(page, Journey.of, after=after, counter=count)

    @described_field("One journey, or null when the tenant has none with this id.")
    async def journey(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The journey id.")],
    ) -> Journey | None:
        try:
            model = await info.context.services.store.journeys.get(info.context.tenant_id, id)
        except NotFoundError:
            return None
        return Journey.of(model)

    @described_field(
        "Every problem of a definition (a journey's draft, typed input or JSON), each with its "
        "code, node id and message, without saving anything."
    )
    async def validate_journey(
        self,
        info: Info,
        source: Annotated[
            JourneyDefinitionSource,
            strawberry.argument(description="What to validate; set exactly one field."),
        ],
    ) -> ValidateJourneyResult:
        journeys = info.context.services.journeys
        raw = source.raw_definition()
        if raw is not None:
            _, problems = journeys.validate(raw)
            return ValidationReport.of(problems)
        try:
            problems = await journeys.draft_problems(info.context.tenant_id, str(source.journey_id))
        except NotFoundError as exc:
            return NotFound.of(exc)
        return ValidationReport.of(problems)

    @described_field("Journeys to start from, the canonical private-domain journey first.")
    def journey_templates(self) -> list[JourneyTemplate]:
        return [JourneyTemplate.of(template) for template in TEMPLATES.values()]

    @described_field("Channel actions journeys may use, with their params schemas.")
    def channels(self, info: Info) -> list[ChannelAction]:
        return [ChannelAction.of(item) for item in info.context.services.channels.describe()]
