"""Journey writes. Each answers a union clients switch on by `__typename`."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.auth import Permission
from api.graphql.common import (
    ConflictResult,
    Forbidden,
    NotFound,
    ValidationFailed,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.journeys.types import Journey
from api.services.journeys import ValidationFailed as ValidationFailedError
from domain import errors

CreateJourneyResult = Annotated[
    Journey | ValidationFailed | Forbidden, strawberry.union("CreateJourneyResult")
]
CreateFromTemplateResult = Annotated[
    Journey | NotFound | Forbidden, strawberry.union("CreateJourneyFromTemplateResult")
]
UpdateJourneyResult = Annotated[
    Journey | ValidationFailed | NotFound | ConflictResult | Forbidden,
    strawberry.union("UpdateJourneyResult"),
]
PublishJourneyResult = Annotated[
    Journey | ValidationFailed | NotFound | ConflictResult | Forbidden,
    strawberry.union("PublishJourneyResult"),
]
ArchiveJourneyResult = Annotated[
    Journey | NotFound | Forbidden, strawberry.union("ArchiveJourneyResult")
]


@strawberry.input
class CreateJourneyInput:
    """A new draft; the definition may be incomplete but must parse."""

    name: str
    description: str = ""
    definition: JSON | None = None


@strawberry.type
class JourneyMutations:
    @described_mutation("Create a draft journey.")
    async def create_journey(self, info: Info, input: CreateJourneyInput) -> CreateJourneyResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.journeys.create(
                info.context.tenant_id,
                input.name,
                description=input.description,
                definition=input.definition,
            )
        except ValidationFailedError as exc:
            return ValidationFailed.of(exc.problems)
        return Journey.of(model)

    @described_mutation("Create a draft journey from a template.")
    async def create_journey_from_template(
        self, info: Info, key: str, name: str
    ) -> CreateFromTemplateResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.journeys.create_from_template(
                info.context.tenant_id, key, name
            )
        except errors.NotFound as exc:
            return NotFound.of(exc)
        return Journey.of(model)

    @described_mutation("Change a draft; fails with Conflict on a stale revision.")
    async def update_journey(
        self,
        info: Info,
        id: strawberry.ID,
        expected_revision: int,
        definition: JSON | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> UpdateJourneyResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.journeys.update(
                info.context.tenant_id,
                id,
                expected_revision,
                definition=definition,
                name=name,
                description=description,
            )
        except ValidationFailedError as exc:
            return ValidationFailed.of(exc.problems)
        except errors.NotFound as exc:
            return NotFound.of(exc)
        except errors.Conflict as exc:
            return ConflictResult.of(exc)
        return Journey.of(model)

    @described_mutation("Validate the draft and publish it as the next version.")
    async def publish_journey(self, info: Info, id: strawberry.ID) -> PublishJourneyResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.journeys.publish(info.context.tenant_id, id)
        except ValidationFailedError as exc:
            return ValidationFailed.of(exc.problems)
        except errors.NotFound as exc:
            return NotFound.of(exc)
        except errors.Conflict as exc:
            return ConflictResult.of(exc)
        return Journey.of(model)

    @described_mutation("Archive: no new enrollments; running ones carry on.")
    async def archive_journey(self, info: Info, id: strawberry.ID) -> ArchiveJourneyResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.journeys.archive(info.context.tenant_id, id)
        except errors.NotFound as exc:
            return NotFound.of(exc)
        return Journey.of(model)
