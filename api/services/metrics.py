"""Metrics reads: validates the range and the journey, then asks the store's aggregations.

Each method is one aggregation, so a GraphQL response computes only the fields it selects.
Definitions are `domain.metrics`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from api.services.ports import Clock
from domain.errors import FieldProblem, InvalidInputError
from domain.journey import JourneyDefinition
from domain.metrics import (
    AudienceCut,
    ChannelCut,
    CommerceCounts,
    Cut,
    DeliveryCounts,
    Funnel,
    JourneyConversion,
    JourneyCut,
    RetentionCohort,
    TimeRange,
)
from store.database import Store

_ARGUMENT = {"start": "from", "end": "to"}


@dataclass(frozen=True, slots=True)
class MetricsScope:
    """A tenant and a validated range: what every metric of one request is computed over."""

    tenant_id: str
    range: TimeRange


class MetricsService:
    """The metrics a console reads, for one tenant at a time."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def scope(tenant_id: str, start: datetime, end: datetime) -> MetricsScope:
        """The scope of `[start, end)`; `InvalidInputError` (paths `from`/`to`) when it is not one."""
        try:
            time_range = TimeRange(start=start, end=end)
        except ValidationError as exc:
            raise InvalidInputError(
                FieldProblem(
                    path=".".join(_ARGUMENT.get(str(part), str(part)) for part in item["loc"])
                    or "to",
                    message=item["msg"],
                )
                for item in exc.errors(include_url=False)
            ) from exc
        return MetricsScope(tenant_id=tenant_id, range=time_range)

    @staticmethod
    def journey_cut(journey_id: str, version: int | None, hook: str | None) -> JourneyCut:
        """The cut of one journey; `InvalidInputError` for a version below 1."""
        if version is not None and version < 1:
            raise InvalidInputError.single("version", "versions are numbered from 1")
        return JourneyCut(journey_id=journey_id, version=version, hook=hook)

    async def journey_definition(
        self, scope: MetricsScope, journey_id: str, version: int | None
    ) -> JourneyDefinition:
        """The definition whose nodes order the funnel: the version's, else the live one's, else
        the draft. `NotFoundError` when the journey (or that version) does not exist."""
        journey = await self._store.journeys.get(scope.tenant_id, journey_id)
        number = version if version is not None else journey.live_version
        if number is None:
            return journey.draft
        found = await self._store.journeys.get_version(scope.tenant_id, journey_id, number)
        return found.definition

    async def levers(self, scope: MetricsScope, cut: Cut) -> dict[str | None, CommerceCounts]:
        """Commerce counts per key of the cut (hook, channel, or None)."""
        return await self._store.metrics.commerce(scope.tenant_id, scope.range, cut)

    async def retention(
        self, scope: MetricsScope, cut: Cut
    ) -> dict[str | None, list[RetentionCohort]]:
        """Weekly retention cohorts per key; a day counts once it has ended (by now)."""
        return await self._store.metrics.retention(scope.tenant_id, scope.range, cut, self._clock())

    async def private_domain_users(
        self, scope: MetricsScope, cut: AudienceCut
    ) -> dict[str | None, int]:
        """Reachable customers at the range's end, per key."""
        return await self._store.metrics.private_domain_users(scope.tenant_id, scope.range, cut)

    async def conversion(self, scope: MetricsScope, cut: JourneyCut) -> JourneyConversion:
        """A journey's enrollments started in the range and their conversions."""
        return await self._store.metrics.journey_conversion(scope.tenant_id, scope.range, cut)

    async def funnel(
        self, scope: MetricsScope, cut: JourneyCut, definition: JourneyDefinition
    ) -> Funnel:
        """A journey's per-node funnel over the enrollments started in the range."""
        return await self._store.metrics.funnel(scope.tenant_id, scope.range, cut, definition)

    async def deliveries(self, scope: MetricsScope, cut: ChannelCut) -> list[DeliveryCounts]:
        """Deliveries per channel created in the range."""
        return await self._store.metrics.deliveries(scope.tenant_id, scope.range, cut)
