"""Designing journeys: drafts that may be incomplete, versions that must be valid.

A draft only has to parse as a `JourneyDefinition` to be saved (designers save work in progress);
its remaining problems are reported alongside it. Publishing validates the draft against the
connector catalog and refuses while any problem remains.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.services.ports import ChannelCatalog, Clock, utc_now
from domain.errors import Conflict, NotFound
from domain.journey import JourneyDefinition
from domain.templates import TEMPLATES
from domain.validation import Problem, parse_and_validate, validate_journey
from store.database import Store
from store.journeys import Journey


class ValidationFailed(Exception):
    """The definition has problems; `problems` names every one."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the journey definition")
        self.problems = problems


class JourneyService:
    """Create, edit, validate and publish a tenant's journeys."""

    def __init__(self, store: Store, channels: ChannelCatalog, clock: Clock = utc_now) -> None:
        self._store = store
        self._channels = channels
        self._clock = clock

    def validate(self, raw: Any) -> tuple[JourneyDefinition | None, list[Problem]]:
        """Parse and validate a raw definition: `(definition or None, every problem)`."""
        if not isinstance(raw, Mapping):
            problem = Problem(
                code="invalid_field", message="the definition must be a JSON object", path=None
            )
            return None, [problem]
        return parse_and_validate(raw, self._channels.catalog())

    def problems(self, definition: JourneyDefinition) -> list[Problem]:
        """The problems of a parsed definition (empty: publishable)."""
        return validate_journey(definition, self._channels.catalog())

    def _parse_draft(self, raw: Any) -> JourneyDefinition:
        definition, problems = self.validate(raw)
        if definition is None:
            raise ValidationFailed(problems)
        return definition

    async def create(
        self, tenant_id: str, name: str, *, description: str = "", definition: Any = None
    ) -> Journey:
        """A new draft; `ValidationFailed` when `definition` does not even parse."""
        draft = None if definition is None else self._parse_draft(definition)
        return await self._store.journeys.create(
            tenant_id, name, self._clock(), description=description, draft=draft
        )

    async def create_from_template(self, tenant_id: str, key: str, name: str) -> Journey:
        """A new draft copied from a template; `NotFound` for an unknown template key."""
        template = TEMPLATES.get(key)
        if template is None:
            raise NotFound("template", key)
        return await self._store.journeys.create(
            tenant_id, name, self._clock(), description=template.description, draft=template.build()
        )

    async def update(
        self,
        tenant_id: str,
        journey_id: str,
        expected_revision: int,
        *,
        definition: Any = None,
        name: str | None = None,
        description: str | None = None,
    ) -> Journey:
        """Change the draft; `ValidationFailed`, `NotFound` or `Conflict` (stale revision)."""
        draft = None if definition is None else self._parse_draft(definition)
        return await self._store.journeys.update_draft(
            tenant_id,
            journey_id,
            expected_revision,
            self._clock(),
            name=name,
            description=description,
            draft=draft,
        )

    async def publish(self, tenant_id: str, journey_id: str) -> Journey:
        """Validate the draft and publish it as the next version; the journey afterwards.

        `ValidationFailed` while the draft has problems, `NotFound`, `Conflict` when archived.
        """
        journey = await self._store.journeys.get(tenant_id, journey_id)
        if journey.status == "archived":
            raise Conflict(f"journey {journey_id!r} is archived; it cannot be published")
        problems = self.problems(journey.draft)
        if problems:
            raise ValidationFailed(problems)
        await self._store.journeys.publish(
            tenant_id,
            journey_id,
            journey.draft,
            journey.draft.listened_event_types(),
            self._clock(),
        )
        return await self._store.journeys.get(tenant_id, journey_id)

    async def archive(self, tenant_id: str, journey_id: str) -> Journey:
        """Stop new enrollments; running ones finish on their version."""
        return await self._store.journeys.archive(tenant_id, journey_id, self._clock())
