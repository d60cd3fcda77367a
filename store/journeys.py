"""Journeys (editable drafts) and their published versions (immutable).

A journey document holds the draft definition, a `revision` for optimistic concurrency, and
`latest_version`, the counter from which version numbers are allocated atomically (`$inc`). Each
published version is its own document, unique on `(tenant_id, journey_id, version)`, with the
entry trigger's event type and hook copied out so event routing can find it by index.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from domain.errors import ConflictError, NotFoundError
from domain.experiments import ExperimentDecision
from domain.journey import EventTrigger, HookTrigger, JourneyDefinition, JourneyStatus, SplitNode
from store.ids import new_id
from store.mongo import (
    DEFAULT_MAX_TIME_MS,
    JOURNEY_VERSIONS,
    JOURNEYS,
    Document,
    bounded_count,
    collection,
    id_to_field,
    without_object_id,
)
from store.pagination import Page, after, collect, decode_cursor, page_size


class Journey(BaseModel):
    """A journey as designers edit it: metadata, the draft, and which version is live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tenant_id: str
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    status: JourneyStatus = "draft"
    draft: JourneyDefinition = Field(default_factory=JourneyDefinition)
    revision: int = Field(default=1, ge=1, description="Bumped by every draft update.")
    latest_version: int = Field(
        default=0, ge=0, description="The last version number allocated; 0 until first published."
    )
    live_version: int | None = Field(
        default=None, description="The version new enrollments start on (the highest published)."
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime


class JourneyVersion(BaseModel):
    """One published, immutable version of a journey."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    journey_id: str
    version: int = Field(ge=1)
    definition: JourneyDefinition
    listened_event_types: list[str] = Field(default_factory=list)
    entry_event_type: str | None = None
    entry_hook: str | None = None
    published_at: AwareDatetime
    published_by: str | None = Field(
        default=None, description="The id of the API key that published it, when known."
    )
    open_experiments: list[str] = Field(
        default_factory=list, description="Its splits with a winner rule still undecided."
    )
    experiment_decisions: dict[str, ExperimentDecision] = Field(
        default_factory=dict,
        description="Winners picked for its splits, by node id (`store.experiments`).",
    )


def _journey(doc: Document) -> Journey:
    data = id_to_field(doc)
    for derived in ("entry_event_type", "entry_hook"):
        data.pop(derived, None)
    data["draft"] = JourneyDefinition.model_validate(data["draft"])
    return Journey.model_validate(data)


def version_from_doc(doc: Document) -> JourneyVersion:
    data = without_object_id(doc)
    data["definition"] = JourneyDefinition.model_validate(data["definition"])
    return JourneyVersion.model_validate(data)


def _entry(definition: JourneyDefinition) -> tuple[str | None, str | None]:
    try:
        trigger = definition.entry.trigger
    except KeyError:
        return None, None
    if isinstance(trigger, HookTrigger):
        return trigger.event_type, trigger.hook
    if isinstance(trigger, EventTrigger):
        return trigger.event_type, None
    return None, None


class JourneyRepository:
    """The `journeys` (`_id` = journey id) and `journey_versions` collections."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._journeys = collection(db, JOURNEYS)
        self._versions = collection(db, JOURNEY_VERSIONS)
        self._max_time_ms = max_time_ms

    async def create(
        self,
        tenant_id: str,
        name: str,
        now: datetime,
        *,
        description: str = "",
        draft: JourneyDefinition | None = None,
        journey_id: str | None = None,
    ) -> Journey:
        """A new draft journey."""
        journey = Journey(
            id=journey_id or new_id("jrn"),
            tenant_id=tenant_id,
            name=name,
            description=description,
            draft=draft or JourneyDefinition(),
            created_at=now,
            updated_at=now,
        )
        doc = journey.model_dump(exclude={"id", "draft"})
        doc["_id"] = journey.id
        doc["draft"] = journey.draft.model_dump(mode="json")
        await self._journeys.insert_one(doc)
        return journey

    async def get(self, tenant_id: str, journey_id: str) -> Journey:
        """The journey; `NotFoundError` when there is none."""
        doc = await self._journeys.find_one({"_id": journey_id, "tenant_id": tenant_id})
        if doc is None:
            raise NotFoundError("journey", journey_id)
        return _journey(doc)

    async def list(
        self,
        tenant_id: str,
        *,
        status: JourneyStatus | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Journey]:
        """Journeys in creation order."""
        query: Document = {"tenant_id": tenant_id}
        if status is not None:
            query["status"] = status
        if cursor is not None:
            query = {"$and": [query, after(["_id"], decode_cursor(cursor, 1))]}
        size = page_size(limit)
        found = self._journeys.find(query).sort("_id", 1).limit(size + 1)
        return await collect(found, ["_id"], size, _journey)

    async def count(self, tenant_id: str, *, status: JourneyStatus | None = None) -> int:
        """How many journeys the tenant has (with this status)."""
        query: Document = {"tenant_id": tenant_id}
        if status is not None:
            query["status"] = status
        return await bounded_count(self._journeys, query, self._max_time_ms, "journeys")

    async def update_draft(
        self,
        tenant_id: str,
        journey_id: str,
        expected_revision: int,
        now: datetime,
        *,
        name: str | None = None,
        description: str | None = None,
        draft: JourneyDefinition | None = None,
    ) -> Journey:
        """Change the draft or metadata if nobody else did since `expected_revision`.

        `ConflictError` when the revision is stale, `NotFoundError` when there is no such journey.
        """
        changes: Document = {"updated_at": now}
        if name is not None:
            changes["name"] = Journey.model_validate(
                {
                    "id": journey_id,
                    "tenant_id": tenant_id,
                    "name": name,
                    "created_at": now,
                    "updated_at": now,
                }
            ).name
        if description is not None:
            changes["description"] = description
        if draft is not None:
            changes["draft"] = draft.model_dump(mode="json")
        doc = await self._journeys.find_one_and_update(
            {"_id": journey_id, "tenant_id": tenant_id, "revision": expected_revision},
            {"$set": changes, "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            current = await self.get(tenant_id, journey_id)
            raise ConflictError(
                f"journey {journey_id!r} is at revision {current.revision}, "
                f"not {expected_revision}; reload it and apply the change again"
            )
        return _journey(doc)

    async def archive(self, tenant_id: str, journey_id: str, now: datetime) -> Journey:
        """Archive the journey: no new enrollments; running ones carry on with their version."""
        doc = await self._journeys.find_one_and_update(
            {"_id": journey_id, "tenant_id": tenant_id},
            {"$set": {"status": "archived", "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFoundError("journey", journey_id)
        return _journey(doc)

    async def unarchive(self, tenant_id: str, journey_id: str, now: datetime) -> Journey:
        """Take the journey out of the archive: `published` again when it has a live version
        (new enrollments resume), else back to `draft`. A journey not archived is left as is."""
        journey = await self.get(tenant_id, journey_id)
        if journey.status != "archived":
            return journey
        # Publishing refuses archived journeys, so `live_version` cannot change under us.
        status: JourneyStatus = "published" if journey.live_version is not None else "draft"
        doc = await self._journeys.find_one_and_update(
            {"_id": journey_id, "tenant_id": tenant_id, "status": "archived"},
            {"$set": {"status": status, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return await self.get(tenant_id, journey_id) if doc is None else _journey(doc)

    async def publish(
        self,
        tenant_id: str,
        journey_id: str,
        definition: JourneyDefinition,
        listened_event_types: Iterable[str],
        now: datetime,
        *,
        published_by: str | None = None,
    ) -> int:
        """Store `definition` as the next version and make it live; its version number.

        The caller validates the definition first. `ConflictError` when the journey is archived.
        """
        doc = await self._journeys.find_one_and_update(
            {"_id": journey_id, "tenant_id": tenant_id, "status": {"$ne": "archived"}},
            {"$inc": {"latest_version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            await self.get(tenant_id, journey_id)
            raise ConflictError(f"journey {journey_id!r} is archived; it cannot be published")
        number = int(doc["latest_version"])
        entry_event_type, entry_hook = _entry(definition)
        version = JourneyVersion(
            tenant_id=tenant_id,
            journey_id=journey_id,
            version=number,
            definition=definition,
            listened_event_types=sorted(set(listened_event_types)),
            entry_event_type=entry_event_type,
            entry_hook=entry_hook,
            published_at=now,
            published_by=published_by,
            open_experiments=[
                node.id
                for node in definition.nodes
                if isinstance(node, SplitNode) and node.winner is not None
            ],
        )
        version_doc = version.model_dump(exclude={"definition"})
        version_doc["definition"] = definition.model_dump(mode="json")
        await self._versions.insert_one(version_doc)
        # Concurrent publishes may finish out of order; the journey points at the highest.
        await self._journeys.update_one(
            {
                "_id": journey_id,
                "tenant_id": tenant_id,
                "$or": [{"live_version": {"$lt": number}}, {"live_version": None}],
            },
            {
                "$set": {
                    "live_version": number,
                    "status": "published",
                    "updated_at": now,
                    "entry_event_type": entry_event_type,
                    "entry_hook": entry_hook,
                }
            },
        )
        return number

    async def get_version(self, tenant_id: str, journey_id: str, version: int) -> JourneyVersion:
        """One published version; `NotFoundError` when there is none."""
        doc = await self._versions.find_one(
            {"tenant_id": tenant_id, "journey_id": journey_id, "version": version}
        )
        if doc is None:
            raise NotFoundError("journey version", f"{journey_id}@{version}")
        return version_from_doc(doc)

    async def list_versions(self, tenant_id: str, journey_id: str) -> builtins.list[JourneyVersion]:
        """Every published version of the journey, oldest first."""
        found = self._versions.find({"tenant_id": tenant_id, "journey_id": journey_id})
        return [version_from_doc(doc) async for doc in found.sort("version", 1)]

    async def find_published_entry_matches(
        self, tenant_id: str, event_type: str
    ) -> builtins.list[JourneyVersion]:
        """The live version of each published journey whose entry trigger listens for `event_type`."""
        journeys = await self._journeys.find(
            {"tenant_id": tenant_id, "status": "published", "entry_event_type": event_type},
            projection={"_id": 1, "live_version": 1},
        ).to_list(None)
        if not journeys:
            return []
        found = self._versions.find(
            {
                "tenant_id": tenant_id,
                "entry_event_type": event_type,
                "$or": [{"journey_id": j["_id"], "version": j["live_version"]} for j in journeys],
            }
        ).sort("journey_id", 1)
        return [version_from_doc(doc) async for doc in found]
