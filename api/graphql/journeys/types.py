"""Journey types: journeys with their draft and versions, templates and channel actions."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import Problem, described_field
from api.graphql.context import Info
from domain.templates import JourneyTemplate
from store.journeys import Journey as JourneyModel
from store.journeys import JourneyVersion as JourneyVersionModel


@strawberry.enum
class JourneyStatus(Enum):
    """`DRAFT` until first published; `ARCHIVED` takes no new enrollments."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@strawberry.type
class JourneyVersion:
    """One published, immutable version."""

    version: int
    published_at: datetime
    definition: JSON
    listened_event_types: list[str]

    @classmethod
    def of(cls, model: JourneyVersionModel) -> JourneyVersion:
        return cls(
            version=model.version,
            published_at=model.published_at,
            definition=JSON(model.definition.model_dump(mode="json")),
            listened_event_types=list(model.listened_event_types),
        )


@strawberry.type
class Journey:
    """A journey: its editable draft (with the problems it still has) and its versions."""

    id: strawberry.ID
    name: str
    description: str
    status: JourneyStatus
    revision: int = strawberry.field(description="Pass it back as `expectedRevision` to update.")
    latest_version: int
    live_version: int | None
    draft: JSON
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[JourneyModel]

    @classmethod
    def of(cls, model: JourneyModel) -> Journey:
        return cls(
            id=strawberry.ID(model.id),
            name=model.name,
            description=model.description,
            status=JourneyStatus(model.status),
            revision=model.revision,
            latest_version=model.latest_version,
            live_version=model.live_version,
            draft=JSON(model.draft.model_dump(mode="json")),
            created_at=model.created_at,
            updated_at=model.updated_at,
            model=model,
        )

    @described_field("What still stops the draft from being published.")
    def problems(self, info: Info) -> list[Problem]:
        return [Problem.of(p) for p in info.context.services.journeys.problems(self.model.draft)]

    @described_field("Published versions, oldest first.")
    async def versions(self, info: Info) -> list[JourneyVersion]:
        found = await info.context.services.store.journeys.list_versions(
            info.context.tenant_id, self.model.id
        )
        return [JourneyVersion.of(v) for v in found]


@strawberry.type
class Template:
    """A journey designers can start from (`createJourneyFromTemplate`)."""

    key: str
    title: str
    description: str
    definition: JSON

    @classmethod
    def of(cls, template: JourneyTemplate) -> Template:
        return cls(
            key=template.key,
            title=template.title,
            description=template.description,
            definition=JSON(template.build().model_dump(mode="json")),
        )


@strawberry.type
class ChannelAction:
    """An action journeys may run, with the JSON schema its `params` must satisfy."""

    channel: str
    action: str
    description: str
    params_schema: JSON

    @classmethod
    def of(cls, described: dict[str, Any]) -> ChannelAction:
        return cls(
            channel=str(described["channel"]),
            action=str(described["action"]),
            description=str(described.get("description", "")),
            params_schema=JSON(described.get("params_schema", {})),
        )
