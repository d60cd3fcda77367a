"""Designing journeys: drafts that may be incomplete, versions that must be valid.

A draft only has to parse as a `JourneyDefinition` to be saved (designers save work in progress);
its remaining problems are reported alongside it. Publishing validates the draft against the
connector catalog and refuses while any problem remains. Published versions are immutable; they
can be drawn (Mermaid, with live per-node counts) and compared with each other or the draft.

Errors raised: `ValidationFailedError` (the definition), `InvalidInputError` (a name), `NotFoundError`,
`ConflictError` (stale revision, archived journey).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.services.ports import ChannelCatalog, Clock, utc_now
from domain.diagram import mermaid
from domain.diff import JourneyDiff, diff
from domain.errors import ConflictError, InvalidInputError, NotFoundError, ValidationFailedError
from domain.journey import JourneyDefinition
from domain.templates import TEMPLATES
from domain.validation import Problem, parse_and_validate, validate_journey
from store.database import Store
from store.journeys import Journey, JourneyVersion

MAX_NAME_LENGTH = 200


def _name(name: str, path: str = "name") -> str:
    """The journey name, or `InvalidInputError` when it is blank or too long."""
    if not name.strip():
        raise InvalidInputError.single(path, "a journey name must not be blank")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError.single(
            path, f"a journey name has at most {MAX_NAME_LENGTH} characters"
        )
    return name


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
            raise ValidationFailedError(problems)
        return definition

    async def create(
        self, tenant_id: str, name: str, *, description: str = "", definition: Any = None
    ) -> Journey:
        """A new draft; `ValidationFailedError` when `definition` does not even parse."""
        name = _name(name)
        draft = None if definition is None else self._parse_draft(definition)
        return await self._store.journeys.create(
            tenant_id, name, self._clock(), description=description, draft=draft
        )

    async def create_from_template(self, tenant_id: str, key: str, name: str) -> Journey:
        """A new draft copied from a template; `NotFoundError` for an unknown template key."""
        template = TEMPLATES.get(key)
        if template is None:
            raise NotFoundError("template", key)
        name = _name(name)
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
        """Change the draft; `ValidationFailedError`, `NotFoundError` or `ConflictError` (stale revision)."""
        if name is not None:
            name = _name(name)
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

    async def duplicate(self, tenant_id: str, journey_id: str, name: str) -> Journey:
        """A new draft journey with a copy of this one's draft and description."""
        name = _name(name)
        source = await self._store.journeys.get(tenant_id, journey_id)
        return await self._store.journeys.create(
            tenant_id, name, self._clock(), description=source.description, draft=source.draft
        )

    async def draft_problems(self, tenant_id: str, journey_id: str) -> list[Problem]:
        """The problems of a journey's draft; `NotFoundError` when there is no such journey."""
        journey = await self._store.journeys.get(tenant_id, journey_id)
        return self.problems(journey.draft)

    async def publish(
        self, tenant_id: str, journey_id: str, *, published_by: str | None = None
    ) -> Journey:
        """Validate the draft and publish it as the next version; the journey afterwards.

        `ValidationFailedError` while the draft has problems, `NotFoundError`, `ConflictError` when archived.
        `published_by` (an API key id) is recorded on the version.
        """
        journey = await self._store.journeys.get(tenant_id, journey_id)
        if journey.status == "archived":
            raise ConflictError(f"journey {journey_id!r} is archived; it cannot be published")
        problems = self.problems(journey.draft)
        if problems:
            raise ValidationFailedError(problems)
        await self._store.journeys.publish(
            tenant_id,
            journey_id,
            journey.draft,
            journey.draft.listened_event_types(),
            self._clock(),
            published_by=published_by,
        )
        return await self._store.journeys.get(tenant_id, journey_id)

    async def archive(self, tenant_id: str, journey_id: str) -> Journey:
        """Stop new enrollments; running ones finish on their version."""
        return await self._store.journeys.archive(tenant_id, journey_id, self._clock())

    async def unarchive(self, tenant_id: str, journey_id: str) -> Journey:
        """Take the journey out of the archive (published again if it has a live version)."""
        return await self._store.journeys.unarchive(tenant_id, journey_id, self._clock())

    async def diagram(self, version: JourneyVersion, *, with_counts: bool = False) -> str:
        """The Mermaid flowchart of a version; with counts, the running enrollments at each node."""
        counts = None
        if with_counts:
            counts = await self._store.enrollments.count_by_current_node(
                version.tenant_id, version.journey_id, version.version
            )
        return mermaid(version.definition, node_counts=counts)

    async def diff(
        self, tenant_id: str, journey_id: str, before: int, after: int | None
    ) -> JourneyDiff:
        """What changed from version `before` to version `after` (the draft when None)."""
        old = await self._store.journeys.get_version(tenant_id, journey_id, before)
        if after is None:
            new = (await self._store.journeys.get(tenant_id, journey_id)).draft
        else:
            new = (await self._store.journeys.get_version(tenant_id, journey_id, after)).definition
        return diff(old.definition, new)
