"""Metrics types. Their descriptions are built from `domain.metrics.definitions` (each metric
written once there), so a console can show the definitions as help.

Objects resolve their parts lazily: a response that selects only `levers` runs one aggregation.
Breakdown rows (per hook, per channel) share one grouped aggregation per part.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry

from api.graphql.common import described_field
from api.services.metrics import MetricsScope, MetricsService
from domain import metrics as m
from domain.journey import JourneyDefinition
from domain.metrics import definitions as d

T = TypeVar("T")

ENTERED = "Customers who entered (the cohort every lever of this object divides by): {cohort}"
"""Each cohort field's description, filled with the cohort's formula (`d.*_COHORT`)."""


def _entered(cohort: d.Definition) -> str:
    return ENTERED.format(cohort=f"{cohort.formula}.")


def _rate(definition: d.Definition, *more: str) -> Any:
    """A field described by a metric's definition (and `more` sentences)."""
    return strawberry.field(description=" ".join([definition.description, *more]))


class _Once(Generic[T]):
    """One aggregation shared by the rows of a breakdown, run at most once per response."""

    def __init__(self, load: Callable[[], Awaitable[T]]) -> None:
        self._load = load
        self._task: asyncio.Future[T] | None = None

    async def get(self) -> T:
        if self._task is None:
            self._task = asyncio.ensure_future(self._load())
        return await self._task


@strawberry.type(description="The levers of a cohort over [from, to). " + d.PAID_ORDER.description)
class Levers:
    entered: int = strawberry.field(
        description="Customers who entered: the cohort of the object holding these levers."
    )
    buyers: int = strawberry.field(description="Cohort customers with ≥ 1 paid order.")
    repeat_buyers: int = strawberry.field(description="Cohort customers with ≥ 2 paid orders.")
    orders: int = strawberry.field(description="Paid orders of the cohort.")
    revenue: float = strawberry.field(description="Revenue of those paid orders.")
    conversion_rate: float | None = _rate(d.CONVERSION_RATE)
    repurchase_rate: float | None = _rate(d.REPURCHASE_RATE)
    purchase_frequency: float | None = _rate(d.PURCHASE_FREQUENCY)
    aov: float | None = _rate(d.AOV)
    arpu: float | None = _rate(d.ARPU)

    @classmethod
    def of(cls, counts: m.CommerceCounts | None) -> Levers:
        c = counts or m.CommerceCounts.empty()
        return cls(
            entered=c.entered,
            buyers=c.buyers,
            repeat_buyers=c.repeat_buyers,
            orders=c.orders,
            revenue=c.revenue,
            conversion_rate=c.conversion_rate,
            repurchase_rate=c.repurchase_rate,
            purchase_frequency=c.purchase_frequency,
            aov=c.aov,
            arpu=c.arpu,
        )


@strawberry.type(description="Retention on day N of a cohort (or of all cohorts, summed).")
class RetentionPoint:
    day: int = strawberry.field(description="N: 7, 30 or 90.")
    eligible: int = strawberry.field(description="Customers whose day N has ended.")
    retained: int = strawberry.field(description="Eligible customers active and reachable.")
    rate: float | None = _rate(d.RETENTION_RATE)

    @classmethod
    def of(cls, point: m.RetentionPoint) -> RetentionPoint:
        return cls(day=point.day, eligible=point.eligible, retained=point.retained, rate=point.rate)


@strawberry.type(description="Customers who entered in one week, and their retention.")
class RetentionCohort:
    week_start: datetime = strawberry.field(description="Monday 00:00 UTC of the entry week.")
    entered: int = strawberry.field(description="Customers who entered that week.")
    points: list[RetentionPoint] = strawberry.field(description="Day 7, 30 and 90.")

    @classmethod
    def of(cls, cohort: m.RetentionCohort) -> RetentionCohort:
        return cls(
            week_start=cohort.week_start,
            entered=cohort.entered,
            points=[RetentionPoint.of(p) for p in cohort.points],
        )


@strawberry.type(description=d.RETENTION.description)
class Retention:
    overall: list[RetentionPoint] = strawberry.field(
        description="Every weekly cohort of the range summed, per day."
    )
    cohorts: list[RetentionCohort] = strawberry.field(
        description="One per entry week, oldest first."
    )

    @classmethod
    def of(cls, cohorts: list[m.RetentionCohort] | None) -> Retention:
        found = cohorts or []
        return cls(
            overall=[RetentionPoint.of(p) for p in m.overall_retention(found)],
            cohorts=[RetentionCohort.of(c) for c in found],
        )


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

    @described_field(_entered(d.FIRST_TOUCH_COHORT) + " With the levers computed over them.")
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
    shared: strawberry.Private[dict[str, _Once[Any]]]

    @described_field(d.PRIVATE_DOMAIN_USERS.description)
    async def private_domain_users(self) -> int:
        found: dict[str | None, int] = await self.shared["users"].get()
        return found.get(self.hook, 0)

    @described_field(_entered(d.FIRST_TOUCH_COHORT))
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

        shared: dict[str, _Once[Any]] = {
            "levers": _Once(known_levers),
            "users": _Once(lambda: service.private_domain_users(scope, cut)),
            "retention": _Once(lambda: service.retention(scope, cut)),
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
    success_rate: float | None = _rate(d.DELIVERY_SUCCESS_RATE)
    customers_reached: int = strawberry.field(
        description="Distinct customers with at least one successful delivery."
    )

    @classmethod
    def of(cls, counts: m.DeliveryCounts) -> ChannelDeliveries:
        return cls(
            total=counts.total,
            succeeded=counts.succeeded,
            failed=counts.failed,
            pending=counts.pending,
            success_rate=counts.success_rate,
            customers_reached=counts.customers_reached,
        )


@strawberry.type(description="One channel: what journeys sent on it and what its customers bought.")
class ChannelMetrics:
    channel: str = strawberry.field(description="The channel (`wecom`, `sms`, `webhook`...).")
    deliveries: ChannelDeliveries = strawberry.field(description="Deliveries by status.")
    shared: strawberry.Private[_Once[dict[str | None, m.CommerceCounts]]]

    @described_field(_entered(d.CHANNEL_COHORT))
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
        shared = _Once(lambda: service.levers(scope, cut))
        return cls(
            from_=scope.range.start,
            to=scope.range.end,
            journey_id=None if cut.journey_id is None else strawberry.ID(cut.journey_id),
            channels=[
                ChannelMetrics(channel=d.channel, deliveries=ChannelDeliveries.of(d), shared=shared)
                for d in deliveries
            ],
        )


@strawberry.type(
    description="A journey's enrollments started in the range and how many reached a goal."
)
class JourneyConversion:
    started: int = strawberry.field(description="Enrollments started in [from, to).")
    converted: int = strawberry.field(
        description="Of them, enrollments that reached a goal (at any time so far)."
    )
    conversion_rate: float | None = _rate(d.JOURNEY_CONVERSION_RATE)
    median_seconds_to_convert: float | None = _rate(d.MEDIAN_TIME_TO_CONVERT, "In seconds.")
    mean_seconds_to_convert: float | None = _rate(d.MEAN_TIME_TO_CONVERT, "In seconds.")

    @classmethod
    def of(cls, conversion: m.JourneyConversion) -> JourneyConversion:
        median, mean = conversion.median_time_to_convert, conversion.mean_time_to_convert
        return cls(
            started=conversion.started,
            converted=conversion.converted,
            conversion_rate=conversion.conversion_rate,
            median_seconds_to_convert=None if median is None else median.total_seconds(),
            mean_seconds_to_convert=None if mean is None else mean.total_seconds(),
        )


@strawberry.type(description="Visits that left a node along one edge.")
class FunnelEdge:
    label: str = strawberry.field(
        description="The edge label (`next`, `matched`, `timed_out`, a branch rule id, or "
        "`goal:<event type>` when a goal event pulled the enrollment out)."
    )
    target: str = strawberry.field(description="The node it led to.")
    count: int = strawberry.field(description="Transitions along it.")
    rate: float | None = _rate(d.SHARE_OF_VISITS)


@strawberry.type(description="Enrollments that ended at a node, for one reason.")
class FunnelExit:
    reason: str = strawberry.field(
        description="Why (`converted`, `completed`, an exit node's reason, `cancelled`...)."
    )
    count: int = strawberry.field(description="Enrollments that ended so.")
    rate: float | None = _rate(d.SHARE_OF_VISITS)


@strawberry.type(description="One node of the funnel. " + d.FUNNEL.description)
class FunnelNode:
    node_id: str = strawberry.field(description="The node's id.")
    kind: str = strawberry.field(
        description="The node kind; `unknown` for a node of another version of the journey."
    )
    name: str | None = strawberry.field(description="The node's display name.")
    entered: int = strawberry.field(description="Visits: transitions into it (loops count).")
    enrollments: int = strawberry.field(description="Distinct enrollments that entered it.")
    reach_rate: float | None = _rate(d.REACH_RATE)
    proceeded: int = strawberry.field(description="Visits that moved on to another node.")
    proceed_rate: float | None = _rate(d.PROCEED_RATE)
    edges: list[FunnelEdge] = strawberry.field(description="proceeded, by edge.")
    exited: int = strawberry.field(description="Enrollments that ended at this node.")
    exit_rate: float | None = _rate(d.EXIT_RATE)
    exits: list[FunnelExit] = strawberry.field(description="exited, by reason.")
    converted: int = strawberry.field(
        description="Enrollments that entered it and reached a goal at or after first entering it."
    )
    conversion_rate: float | None = _rate(d.NODE_CONVERSION_RATE)

    @classmethod
    def of(cls, funnel: m.Funnel, node: m.FunnelNode) -> FunnelNode:
        return cls(
            node_id=node.node_id,
            kind=node.kind,
            name=node.name,
            entered=node.entered,
            enrollments=node.enrollments,
            reach_rate=funnel.reach_rate(node),
            proceeded=node.proceeded_total,
            proceed_rate=node.proceed_rate,
            edges=[
                FunnelEdge(
                    label=e.label,
                    target=e.target,
                    count=e.count,
                    rate=m.safe_div(e.count, node.entered),
                )
                for e in node.proceeded
            ],
            exited=node.exited_total,
            exit_rate=node.exit_rate,
            exits=[
                FunnelExit(reason=x.reason, count=x.count, rate=m.safe_div(x.count, node.entered))
                for x in node.exited
            ],
            converted=node.converted,
            conversion_rate=node.conversion_rate,
        )


@strawberry.type(description="One journey (optionally one version, one hook) over a range.")
class JourneyMetrics:
    journey_id: strawberry.ID = strawberry.field(description="The journey.")
    version: int | None = strawberry.field(description="The version asked for; null for all.")
    hook: str | None = strawberry.field(
        description="Only customers this first-touch hook brought in, when given."
    )
    from_: datetime = strawberry.field(name="from", description="Start of the range (inclusive).")
    to: datetime = strawberry.field(description="End of the range (exclusive).")
    service: strawberry.Private[MetricsService]
    scope: strawberry.Private[MetricsScope]
    cut: strawberry.Private[m.JourneyCut]
    definition: strawberry.Private[JourneyDefinition]

    @described_field(d.JOURNEY_CONVERSION_RATE.description + " With the time it took.")
    async def enrollments(self) -> JourneyConversion:
        return JourneyConversion.of(await self.service.conversion(self.scope, self.cut))

    @described_field(
        "Funnel per node (see `FunnelNode`), in the version's node order (the live version's, or the draft's, "
        "when no version is given); nodes of other versions follow."
    )
    async def funnel(self) -> list[FunnelNode]:
        funnel = await self.service.funnel(self.scope, self.cut, self.definition)
        return [FunnelNode.of(funnel, node) for node in funnel.nodes]

    @described_field(_entered(d.JOURNEY_COHORT))
    async def levers(self) -> Levers:
        return Levers.of((await self.service.levers(self.scope, self.cut)).get(None))

    @described_field("Retention of the journey's customers, per week of entering the journey.")
    async def retention(self) -> Retention:
        return Retention.of((await self.service.retention(self.scope, self.cut)).get(None))
