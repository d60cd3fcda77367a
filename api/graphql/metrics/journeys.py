"""A journey's metrics: conversion, time to convert, the funnel per node, levers, retention."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.metrics.experiments import Experiment
from api.graphql.metrics.fields import cohort_entered, defined_field
from api.graphql.metrics.levers import Levers, Retention
from api.services.metrics import MetricsScope, MetricsService
from domain import metrics as m
from domain.journey import JourneyDefinition
from domain.metrics import definitions as d


@strawberry.type(
    description="A journey's enrollments started in the range and how many reached a goal."
)
class JourneyConversion:
    started: int = defined_field(d.STARTED)
    converted: int = defined_field(d.CONVERTED)
    conversion_rate: float | None = defined_field(d.JOURNEY_CONVERSION_RATE)
    median_seconds_to_convert: float | None = defined_field(d.MEDIAN_TIME_TO_CONVERT, "In seconds.")
    mean_seconds_to_convert: float | None = defined_field(d.MEAN_TIME_TO_CONVERT, "In seconds.")

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
    rate: float | None = defined_field(d.SHARE_OF_VISITS)


@strawberry.type(description="Enrollments that ended at a node, for one reason.")
class FunnelExit:
    reason: str = strawberry.field(
        description="Why (`converted`, `completed`, an exit node's reason, `cancelled`...)."
    )
    count: int = strawberry.field(description="Enrollments that ended so.")
    rate: float | None = defined_field(d.SHARE_OF_VISITS)


@strawberry.type(description="One node of the funnel. " + d.FUNNEL.description)
class FunnelNode:
    node_id: str = strawberry.field(description="The node's id.")
    kind: str = strawberry.field(
        description="The node kind; `unknown` for a node of another version of the journey."
    )
    name: str | None = strawberry.field(description="The node's display name.")
    entered: int = defined_field(d.VISITS)
    enrollments: int = defined_field(d.NODE_ENROLLMENTS)
    reach_rate: float | None = defined_field(d.REACH_RATE)
    proceeded: int = strawberry.field(description="Visits that moved on to another node.")
    proceed_rate: float | None = defined_field(d.PROCEED_RATE)
    edges: list[FunnelEdge] = strawberry.field(description="proceeded, by edge.")
    exited: int = strawberry.field(description="Enrollments that ended at this node.")
    exit_rate: float | None = defined_field(d.EXIT_RATE)
    exits: list[FunnelExit] = strawberry.field(description="exited, by reason.")
    converted: int = defined_field(d.NODE_CONVERTED)
    conversion_rate: float | None = defined_field(d.NODE_CONVERSION_RATE)

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

    @described_field(
        "Each split node's experiment: its variants' enrollments, conversions and revenue, "
        "compared with the control (lift, p-value), and the winner once picked."
    )
    async def experiments(self, info: Info) -> list[Experiment]:
        service = info.context.services.experiments
        summaries = await service.summaries(self.scope, self.cut, self.definition)
        return [Experiment.of(summary) for summary in summaries]

    @described_field(cohort_entered(d.JOURNEY_COHORT))
    async def levers(self) -> Levers:
        return Levers.of((await self.service.levers(self.scope, self.cut)).get(None))

    @described_field("Retention of the journey's customers, per week of entering the journey.")
    async def retention(self) -> Retention:
        return Retention.of((await self.service.retention(self.scope, self.cut)).get(None))
