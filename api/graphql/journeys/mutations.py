"""Journey writes. Each answers a union clients switch on by `__typename`.

Every write needs the `edit_journeys` permission (roles admin and designer). `_write` checks it,
runs the change and maps the domain's expected errors onto the result types; each mutation's
union lists the ones it can meet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeAlias, cast

import strawberry
from strawberry.scalars import JSON

from api.auth import Permission
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ValidationFailed,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.journeys.inputs import JourneyDefinitionInput, to_raw
from api.graphql.journeys.types import Journey
from domain.errors import ConflictError, InvalidInputError, NotFoundError, ValidationFailedError
from store.journeys import Journey as JourneyModel

CreateJourneyResult = Annotated[
    Journey | ValidationFailed | InvalidInput | Forbidden,
    strawberry.union(
        "CreateJourneyResult", description="The new draft journey, or why it was not created."
    ),
]
CreateFromTemplateResult = Annotated[
    Journey | NotFound | InvalidInput | Forbidden,
    strawberry.union(
        "CreateJourneyFromTemplateResult",
        description="The new draft journey, or why it was not created.",
    ),
]
UpdateJourneyResult = Annotated[
    Journey | ValidationFailed | InvalidInput | NotFound | Conflict | Forbidden,
    strawberry.union(
        "UpdateJourneyResult", description="The updated journey, or why it was not updated."
    ),
]
PublishJourneyResult = Annotated[
    Journey | ValidationFailed | NotFound | Conflict | Forbidden,
    strawberry.union(
        "PublishJourneyResult",
        description="The journey with its new live version, or why it was not published.",
    ),
]
ArchiveJourneyResult = Annotated[
    Journey | NotFound | Forbidden,
    strawberry.union(
        "ArchiveJourneyResult", description="The archived journey, or why it was not archived."
    ),
]
UnarchiveJourneyResult = Annotated[
    Journey | NotFound | Forbidden,
    strawberry.union(
        "UnarchiveJourneyResult", description="The journey out of the archive, or why it is not."
    ),
]
DuplicateJourneyResult = Annotated[
    Journey | NotFound | InvalidInput | Forbidden,
    strawberry.union(
        "DuplicateJourneyResult",
        description="The copy, a new draft journey, or why it was not made.",
    ),
]

_Outcome: TypeAlias = Journey | ValidationFailed | InvalidInput | NotFound | Conflict | Forbidden

JourneyId = Annotated[strawberry.ID, strawberry.argument(description="The journey id.")]
JSON_DEFINITION = (
    "The definition as a JSON document (the shape of `Journey.draft`); give this or "
    "`typedDefinition`, not both."
)
TYPED_DEFINITION = "The definition as typed input; give this or `definition`, not both."


@strawberry.input(description="A new draft; its definition may be incomplete but must parse.")
class CreateJourneyInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    description: str = strawberry.field(default="", description="What the journey is for.")
    definition: JSON | None = strawberry.field(default=None, description=JSON_DEFINITION)
    typed_definition: JourneyDefinitionInput | None = strawberry.field(
        default=None, description=TYPED_DEFINITION
    )


def _definition(definition: JSON | None, typed: JourneyDefinitionInput | None) -> Any:
    """The raw definition from either form; `InvalidInput` when both are given."""
    if definition is not None and typed is not None:
        raise InvalidInputError.single(
            "typedDefinition", "give the definition as `definition` or `typedDefinition`, not both"
        )
    return to_raw(typed) if typed is not None else definition


async def _write(info: Info, change: Callable[[], Awaitable[JourneyModel]]) -> _Outcome:
    """Run `change` if the caller may edit journeys; the journey or the expected failure."""
    if not info.context.can(Permission.EDIT_JOURNEYS):
        return Forbidden.of(Permission.EDIT_JOURNEYS)
    try:
        return Journey.of(await change())
    except ValidationFailedError as exc:
        return ValidationFailed.of(exc.problems)
    except InvalidInputError as exc:
        return InvalidInput.of(exc)
    except NotFoundError as exc:
        return NotFound.of(exc)
    except ConflictError as exc:
        return Conflict.of(exc)


@strawberry.type
class JourneyMutations:
    @described_mutation("Create a draft journey, empty or with a definition.")
    async def create_journey(
        self,
        info: Info,
        input: Annotated[
            CreateJourneyInput, strawberry.argument(description="Name, description, definition.")
        ],
    ) -> CreateJourneyResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.create(
                info.context.tenant_id,
                input.name,
                description=input.description,
                definition=_definition(input.definition, input.typed_definition),
            )

        return cast("CreateJourneyResult", await _write(info, change))

    @described_mutation("Create a draft journey from a template (`journeyTemplates`).")
    async def create_journey_from_template(
        self,
        info: Info,
        key: Annotated[str, strawberry.argument(description="The template's key.")],
        name: Annotated[str, strawberry.argument(description="The new journey's name.")],
    ) -> CreateFromTemplateResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.create_from_template(
                info.context.tenant_id, key, name
            )

        return cast("CreateFromTemplateResult", await _write(info, change))

    @described_mutation(
        "Change a draft's definition, name or description (only the arguments given); "
        "`Conflict` when `expectedRevision` is stale."
    )
    async def update_journey(
        self,
        info: Info,
        id: JourneyId,
        expected_revision: Annotated[
            int, strawberry.argument(description="The `revision` the change was made against.")
        ],
        definition: Annotated[JSON | None, strawberry.argument(description=JSON_DEFINITION)] = None,
        typed_definition: Annotated[
            JourneyDefinitionInput | None, strawberry.argument(description=TYPED_DEFINITION)
        ] = None,
        name: Annotated[
            str | None, strawberry.argument(description="A new name, 1 to 200 characters.")
        ] = None,
        description: Annotated[
            str | None, strawberry.argument(description="A new description.")
        ] = None,
    ) -> UpdateJourneyResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.update(
                info.context.tenant_id,
                id,
                expected_revision,
                definition=_definition(definition, typed_definition),
                name=name,
                description=description,
            )

        return await _write(info, change)

    @described_mutation(
        "Validate the draft and publish it as the next immutable version, which new "
        "enrollments start on; `ValidationFailed` lists every problem."
    )
    async def publish_journey(self, info: Info, id: JourneyId) -> PublishJourneyResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.publish(
                info.context.tenant_id, id, published_by=info.context.principal.key_id
            )

        return cast("PublishJourneyResult", await _write(info, change))

    @described_mutation("Archive: no new enrollments; running ones carry on with their version.")
    async def archive_journey(self, info: Info, id: JourneyId) -> ArchiveJourneyResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.archive(info.context.tenant_id, id)

        return cast("ArchiveJourneyResult", await _write(info, change))

    @described_mutation(
        "Take a journey out of the archive: published again (taking new enrollments) when it "
        "has a live version, else a draft. A journey that is not archived is returned as is."
    )
    async def unarchive_journey(self, info: Info, id: JourneyId) -> UnarchiveJourneyResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.unarchive(info.context.tenant_id, id)

        return cast("UnarchiveJourneyResult", await _write(info, change))

    @described_mutation(
        "A new draft journey with a copy of this journey's draft and description (no versions)."
    )
    async def duplicate_journey(
        self,
        info: Info,
        id: JourneyId,
        name: Annotated[str, strawberry.argument(description="The copy's name.")],
    ) -> DuplicateJourneyResult:
        async def change() -> JourneyModel:
            return await info.context.services.journeys.duplicate(info.context.tenant_id, id, name)

        return cast("DuplicateJourneyResult", await _write(info, change))
