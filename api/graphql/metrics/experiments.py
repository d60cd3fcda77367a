"""Experiment results in `journeyMetrics`: each split's variants side by side, and its winner."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.graphql.metrics.fields import defined_field
from domain import experiments as x
from domain.metrics import definitions as d


@strawberry.enum(description="Why a winner was picked.")
class DecisionReason(Enum):
    WINDOW = strawberry.enum_value("window", description="The rule's `after` window passed.")
    SAMPLE = strawberry.enum_value(
        "sample", description="Every competing variant reached `minSample` enrollments."
    )


@strawberry.type(description="The winner of a split, recorded on its journey version.")
class ExperimentDecision:
    node_id: str = strawberry.field(description="The split node.")
    variant_id: str = strawberry.field(description="The winning variant.")
    decided_at: datetime = strawberry.field(description="When it was picked.")
    reason: DecisionReason = strawberry.field(description="Why then.")

    @classmethod
    def of(cls, decision: x.ExperimentDecision) -> ExperimentDecision:
        return cls(
            node_id=decision.node_id,
            variant_id=decision.variant_id,
            decided_at=decision.decided_at,
            reason=DecisionReason(decision.reason),
        )


@strawberry.type(description="One variant of a split and how it compares with the control.")
class ExperimentVariant:
    variant_id: str = strawberry.field(description="The variant (the label of its edge).")
    weight: int = strawberry.field(description="Its relative share of entrants.")
    holdout: bool = strawberry.field(description="Whether it is the holdout (control) group.")
    control: bool = strawberry.field(description="Whether the others are compared with it.")
    enrollments: int = defined_field(d.VARIANT_ENROLLMENTS)
    converted: int = defined_field(d.VARIANT_CONVERTED)
    revenue: float = defined_field(d.VARIANT_REVENUE)
    conversion_rate: float | None = defined_field(d.VARIANT_CONVERSION_RATE)
    revenue_per_enrollment: float | None = defined_field(d.REVENUE_PER_ENROLLMENT)
    lift: float | None = defined_field(d.LIFT)
    p_value: float | None = defined_field(d.P_VALUE)

    @classmethod
    def of(cls, variant: x.VariantResult) -> ExperimentVariant:
        return cls(
            variant_id=variant.variant_id,
            weight=variant.weight,
            holdout=variant.holdout,
            control=variant.control,
            enrollments=variant.counts.enrollments,
            converted=variant.counts.converted,
            revenue=variant.counts.revenue,
            conversion_rate=variant.conversion_rate,
            revenue_per_enrollment=variant.revenue_per_enrollment,
            lift=variant.lift,
            p_value=variant.p_value,
        )


@strawberry.type(description="One split node's experiment over the range.")
class Experiment:
    node_id: str = strawberry.field(description="The split node.")
    name: str | None = strawberry.field(description="Its display name.")
    control_id: str = strawberry.field(
        description="The variant the others are compared with (the holdout, else the first)."
    )
    auto_winner: bool = strawberry.field(description="Whether it picks a winner by itself.")
    winner_after_seconds: float | None = strawberry.field(
        description="Its rule's window after publishing, in seconds, when it has one."
    )
    winner_min_sample: int | None = strawberry.field(
        description="Its rule's enrollments per competing variant, when it has one."
    )
    decision: ExperimentDecision | None = strawberry.field(
        description="The winner, once picked; new entrants then take it."
    )
    variants: list[ExperimentVariant] = strawberry.field(description="In the node's order.")

    @classmethod
    def of(cls, summary: x.ExperimentSummary) -> Experiment:
        rule = summary.winner_rule
        after = None if rule is None or rule.after is None else rule.after.total_seconds()
        return cls(
            node_id=summary.node_id,
            name=summary.name,
            control_id=summary.control_id,
            auto_winner=rule is not None,
            winner_after_seconds=after,
            winner_min_sample=None if rule is None else rule.min_sample,
            decision=None if summary.decision is None else ExperimentDecision.of(summary.decision),
            variants=[ExperimentVariant.of(variant) for variant in summary.variants],
        )
