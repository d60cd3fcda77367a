"""Metrics reads (any role may read them), scoped to the caller's tenant.

Each answers a union: the metrics, or the expected failure (`InvalidInput` for a bad range,
`NotFound` for an unknown journey or version), so clients switch on `__typename`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.graphql.common import FieldError, InvalidInput, NotFound, described_field
from api.graphql.context import Info
from api.graphql.metrics.types import (
    AudienceMetrics,
    ChannelMetricsList,
    HookMetricsList,
    JourneyMetrics,
)
from domain import errors
from domain.metrics import MAX_RANGE, AudienceCut, ChannelCut

From = Annotated[
    datetime,
    strawberry.argument(
        name="from", description="Start of the range, inclusive (an ISO date-time with offset)."
    ),
]
To = Annotated[
    datetime,
    strawberry.argument(
        description=f"End of the range, exclusive; at most {MAX_RANGE.days} days after `from` "
        "(longer: `InvalidInput` naming the limit)."
    ),
]

AudienceMetricsResult = Annotated[
    AudienceMetrics | InvalidInput,
    strawberry.union(
        "AudienceMetricsResult", description="The audience metrics, or why the range is invalid."
    ),
]
HookMetricsResult = Annotated[
    HookMetricsList | InvalidInput,
    strawberry.union(
        "HookMetricsResult", description="The per-hook metrics, or why the range is invalid."
    ),
]
ChannelMetricsResult = Annotated[
    ChannelMetricsList | InvalidInput,
    strawberry.union(
        "ChannelMetricsResult", description="The per-channel metrics, or why the range is invalid."
    ),
]
JourneyMetricsResult = Annotated[
    JourneyMetrics | NotFound | InvalidInput,
    strawberry.union(
        "JourneyMetricsResult",
        description="The journey's metrics, or why not: unknown journey or version, invalid range.",
    ),
]


def _invalid(error: errors.InvalidInput) -> InvalidInput:
    return InvalidInput(message=str(error), errors=[FieldError.of(p) for p in error.problems])


@strawberry.type
class MetricsQueries:
    @described_field(
        "The levers of the customers first touched in [from, to) (all of them, or those one "
        "hook brought in), the tenant's private-domain users at `to`, and retention."
    )
    async def audience_metrics(
        self,
        info: Info,
        from_: From,
        to: To,
        hook: Annotated[
            str | None,
            strawberry.argument(description="Only customers whose first-touch hook is this."),
        ] = None,
    ) -> AudienceMetricsResult:
        service = info.context.services.metrics
        try:
            scope = service.scope(info.context.tenant_id, from_, to)
        except errors.InvalidInput as error:
            return _invalid(error)
        return AudienceMetrics(
            from_=scope.range.start,
            to=scope.range.end,
            hook=hook,
            service=service,
            scope=scope,
            cut=AudienceCut(hook=hook),
        )

    @described_field(
        "The same levers per first-touch hook: which hooks bring customers who buy and stay."
    )
    async def hook_metrics(self, info: Info, from_: From, to: To) -> HookMetricsResult:
        service = info.context.services.metrics
        try:
            scope = service.scope(info.context.tenant_id, from_, to)
        except errors.InvalidInput as error:
            return _invalid(error)
        levers = await service.levers(scope, AudienceCut(by_hook=True))
        return HookMetricsList.build(service, scope, levers)

    @described_field(
        "Deliveries per channel in [from, to), and the levers of the customers each reached."
    )
    async def channel_metrics(
        self,
        info: Info,
        from_: From,
        to: To,
        journey_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this journey's deliveries."),
        ] = None,
    ) -> ChannelMetricsResult:
        service = info.context.services.metrics
        try:
            scope = service.scope(info.context.tenant_id, from_, to)
        except errors.InvalidInput as error:
            return _invalid(error)
        cut = ChannelCut(journey_id=journey_id)
        deliveries = await service.deliveries(scope, cut)
        return ChannelMetricsList.build(service, scope, cut, deliveries)

    @described_field(
        "A journey's funnel, conversion, levers and retention over the enrollments started in "
        "[from, to)."
    )
    async def journey_metrics(
        self,
        info: Info,
        journey_id: Annotated[strawberry.ID, strawberry.argument(description="The journey.")],
        from_: From,
        to: To,
        version: Annotated[
            int | None,
            strawberry.argument(description="Only enrollments pinned to this version."),
        ] = None,
        hook: Annotated[
            str | None,
            strawberry.argument(description="Only customers whose first-touch hook is this."),
        ] = None,
    ) -> JourneyMetricsResult:
        service = info.context.services.metrics
        try:
            scope = service.scope(info.context.tenant_id, from_, to)
            cut = service.journey_cut(journey_id, version, hook)
        except errors.InvalidInput as error:
            return _invalid(error)
        try:
            definition = await service.journey_definition(scope, journey_id, version)
        except errors.NotFound as error:
            return NotFound.of(error)
        return JourneyMetrics(
            journey_id=journey_id,
            version=version,
            hook=hook,
            from_=scope.range.start,
            to=scope.range.end,
            service=service,
            scope=scope,
            cut=cut,
            definition=definition,
        )
