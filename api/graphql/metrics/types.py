"""Metrics types. Their descriptions are built from `domain.metrics.definitions` (each metric
written once there), so a console can show the definitions as help.

Objects resolve their parts lazily: a response that selects only `levers` runs one aggregation.
Breakdown rows (per hook, per channel) share one grouped aggregation per part (`Once`). The
parts are `levers` (levers and retention) and `journeys` (a journey's conversion and funnel).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.graphql.common import described_field
from api.graphql.metrics.fields import Once, cohort_entered, defined_field
from api.graphql.metrics.journeys import JourneyMetrics
from api.graphql.metrics.levers import Levers, Retention
from api.services.metrics import MetricsScope, MetricsService
from domain import metrics as m
from domain.metrics import definitions as d

__all__ = ["AudienceMetrics", "ChannelMetricsList", "HookMetricsList", "JourneyMetrics"]


@strawberry.type(description="Customers first touched in a range (optionally through one hook).")
class AudienceMetrics:
    from_: datetime = strawberry.field(name="from", description="Start of the range (inclusive).")
    to: datetime = strawberry.field(description="End of the range (exclusive).")
    hook: str | None = strawberry.field(description="The first-touch hook asked for, if any.")
    service: strawberry.Private[MetricsService]
    scope: strawberry.Private[MetricsScope]
    cut: strawberry.Private[m.AudienceCut]

    @described_field(d.PRIVATE_DOMAIN_USERS.description)
    async def private_domain_users(self) -> int:
        found = await self.service.private_domain_users(self.scope, self.cut)
        return found.get(None, 0)

    @described_field(cohort_entered(d.FIRST_TOUCH_COHORT) + " With the levers computed over them.")
    async def levers(self) -> Levers:
        return Levers.of((await self.service.levers(self.scope, self.cut)).get(None))

    @described_field("Retention of the customers who entered, per entry week.")
    async def retention(self) -> Retention:
        return Retention.of((await self.service.retention(self.scope, self.cut)).get(None))


@strawberry.type(description="One first-touch hook's customers (those it first brought in).")
class HookMetrics:
    hook: str | None = strawberry.field(
        description="The hook (channel code `state`) recorded as the customers' first touch; "
        "null for customers no hook brought in."
    )
    shared: strawberry.Private[dict[str, Once[Any]]]

    @described_field(d.PRIVATE_DOMAIN_USERS.description)
    async def private_domain_users(self) -> int:
        found: dict[str | None, int] = await self.shared["users"].get()
        return found.get(self.hook, 0)

    @described_field(cohort_entered(d.FIRST_TOUCH_COHORT))
    async def levers(self) -> Levers:
        found: dict[str | None, m.CommerceCounts] = await self.shared["levers"].get()
        return Levers.of(found.get(self.hook))

    @described_field("Retention of the hook's customers, per entry week.")
    async def retention(self) -> Retention:
        found: dict[str | None, list[m.RetentionCohort]] = await self.shared["retention"].get()
        return Retention.of(found.get(self.hook))


@strawberry.type(description="Hooks that first brought in customers during a range.")
class HookMetricsList:
    from_: datetime = strawberry.field(name="from", description="Start of the range (inclusive).")
    to: datetime = strawberry.field(description="End of the range (exclusive).")
    hooks: list[HookMetrics] = strawberry.field(
        description="One row per first-touch hook of the customers who entered in the range "
        "(null hook last), by hook."
    )

    @classmethod
    def build(
        cls,
        service: MetricsService,
        scope: MetricsScope,
        levers: dict[str | None, m.CommerceCounts],
    ) -> HookMetricsList:
        cut = m.AudienceCut(by_hook=True)

        async def known_levers() -> dict[str | None, m.CommerceCounts]:
            return levers

        shared: dict[str, Once[Any]] = {
            "levers": Once(known_levers),
            "users": Once(lambda: service.private_domain_users(scope, cut)),
            "retention": Once(lambda: service.retention(scope, cut)),
        }
        keys = sorted(levers, key=lambda k: (k is None, k or ""))
        return cls(
            from_=scope.range.start,
            to=scope.range.end,
            hooks=[HookMetrics(hook=key, shared=shared) for key in keys],
        )


@strawberry.type(description="Deliveries on one channel created in the range.")
class ChannelDeliveries:
    total: int = strawberry.field(description="Deliveries created in the range.")
    succeeded: int = strawberry.field(description="Of them, performed by the channel.")
    failed: int = strawberry.field(description="Of them, failed (their last attempt).")
    pending: int = strawberry.field(description="Of them, not finished yet.")
    skipped: int = strawberry.field(
        description="Of them, not attempted: the customer opted out of the channel."
    )
    success_rate: float | None = defined_field(d.DELIVERY_SUCCESS_RATE)
    customers_reached: int = defined_field(d.CUSTOMERS_REACHED)

    @classmethod
    def of(cls, counts: m.DeliveryCounts) -> ChannelDeliveries:
        return cls(
            total=counts.total,
            succeeded=counts.succeeded,
            failed=counts.failed,
            pending=counts.pending,
            skipped=counts.skipped,
            success_rate=counts.success_rate,
            customers_reached=counts.customers_reached,
        )


@strawberry.type(description="One channel: what journeys sent on it and what its customers bought.")
class ChannelMetrics:
    channel: str = strawberry.field(description="The channel (`wecom`, `sms`, `webhook`...).")
    deliveries: ChannelDeliveries = strawberry.field(description="Deliveries by status.")
    shared: strawberry.Private[Once[dict[str | None, m.CommerceCounts]]]

    @described_field(cohort_entered(d.CHANNEL_COHORT))
    async def levers(self) -> Levers:
        return Levers.of((await self.shared.get()).get(self.channel))


@strawberry.type(description="Channels journeys delivered on during a range.")
class ChannelMetricsList:
    from_: datetime = strawberry.field(name="from", description="Start of the range (inclusive).")
    to: datetime = strawberry.field(description="End of the range (exclusive).")
    journey_id: strawberry.ID | None = strawberry.field(
        description="Only this journey's deliveries, when given."
    )
    channels: list[ChannelMetrics] = strawberry.field(
        description="One row per channel with a delivery created in the range, by channel."
    )

    @classmethod
    def build(
        cls,
        service: MetricsService,
        scope: MetricsScope,
        cut: m.ChannelCut,
        deliveries: list[m.DeliveryCounts],
    ) -> ChannelMetricsList:
        shared = Once(lambda: service.levers(scope, cut))
        return cls(
            from_=scope.range.start,
            to=scope.range.end,
            journey_id=None if cut.journey_id is None else strawberry.ID(cut.journey_id),
            channels=[
                ChannelMetrics(channel=d.channel, deliveries=ChannelDeliveries.of(d), shared=shared)
                for d in deliveries
            ],
        )
