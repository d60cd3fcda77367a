"""Experiments: which variant of a split an enrollment takes, how variants compare, and when a
winner is picked (pure).

Assignment is a hash of the enrollment id, its run and the node id onto the variants' weights:
the same enrollment run always takes the same variant (a retried or replayed workflow, a loop
back through the split), different enrollments spread by weight, and nothing random is kept in
the workflow state. A decided winner (`ExperimentDecision`, recorded on the journey version)
overrides the hash for every enrollment that loads the version after the decision: new entrants,
and those continuing as new before they reach the split. Enrollments that already passed it stay
where they are.

Comparison: each variant's conversion rate against the control (the holdout variant, else the
first variant) with a two-sided two-proportion z-test; `p_value` below 0.05 is the usual bar.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.journey import SplitNode, SplitVariant, WinnerRule
from domain.metrics import definitions as d
from domain.metrics.definitions import defined

_BUCKETS = 2**64


def assign_variant(node: SplitNode, enrollment_id: str, run: str | None) -> str:
    """The id of the variant this enrollment run takes at `node`, by weight (equal shares when
    every weight is 0)."""
    weights = [variant.weight for variant in node.variants]
    if not any(weights):
        weights = [1] * len(weights)
    digest = hashlib.sha256(f"{enrollment_id}\x00{run or ''}\x00{node.id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") * sum(weights) // _BUCKETS
    for variant, weight in zip(node.variants, weights, strict=True):
        if point < weight:
            return variant.id
        point -= weight
    return node.variants[-1].id  # unreachable: point < sum(weights)


def control_of(node: SplitNode) -> SplitVariant:
    """The variant the others are compared with: the holdout, else the first one."""
    return next((v for v in node.variants if v.holdout), node.variants[0])


def p_value(converted_a: int, n_a: int, converted_b: int, n_b: int) -> float | None:
    """Two-sided p-value of a difference in conversion rate (pooled two-proportion z-test);
    None when a side has no enrollments or no variation."""
    if n_a == 0 or n_b == 0:
        return None
    pooled = (converted_a + converted_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance <= 0:
        return None
    z = (converted_a / n_a - converted_b / n_b) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantCounts(_Frozen):
    """What one variant's enrollments did (the store's aggregation)."""

    variant_id: str
    enrollments: int = 0
    converted: int = 0
    revenue: float = 0.0


class ExperimentDecision(_Frozen):
    """The winner of one split, recorded on its journey version."""

    node_id: str
    variant_id: str
    decided_at: AwareDatetime
    reason: Literal["window", "sample"]
    counts: list[VariantCounts] = Field(default_factory=list)


def conversion_rate(counts: VariantCounts) -> float | None:
    """converted ÷ enrollments; None with no enrollments."""
    return None if counts.enrollments == 0 else counts.converted / counts.enrollments


def decide(
    node: SplitNode,
    counts: list[VariantCounts],
    published_at: datetime,
    now: datetime,
) -> ExperimentDecision | None:
    """The decision `node.winner` calls for now, or None (no rule, not due, or no data)."""
    rule = node.winner
    if rule is None:
        return None
    by_id = {item.variant_id: item for item in counts}
    competing = [
        by_id.get(variant.id, VariantCounts(variant_id=variant.id))
        for variant in node.variants
        if not variant.holdout
    ]
    reason: Literal["window", "sample"] | None = None
    if rule.min_sample is not None and all(c.enrollments >= rule.min_sample for c in competing):
        reason = "sample"
    elif rule.after is not None and now >= published_at + rule.after:
        reason = "window"
    if reason is None or not any(c.enrollments for c in competing):
        return None
    best = max(competing, key=lambda c: (conversion_rate(c) or 0.0, c.revenue, -competing.index(c)))
    return ExperimentDecision(
        node_id=node.id,
        variant_id=best.variant_id,
        decided_at=now,
        reason=reason,
        counts=[by_id.get(v.id, VariantCounts(variant_id=v.id)) for v in node.variants],
    )


class VariantResult(_Frozen):
    """One variant of an experiment, compared with the control."""

    variant_id: str
    weight: int
    holdout: bool
    control: bool
    counts: VariantCounts
    control_rate: float | None = None
    control_counts: VariantCounts | None = None

    @property
    @defined(d.VARIANT_CONVERSION_RATE)
    def conversion_rate(self) -> float | None:
        return conversion_rate(self.counts)

    @property
    @defined(d.REVENUE_PER_ENROLLMENT)
    def revenue_per_enrollment(self) -> float | None:
        enrollments = self.counts.enrollments
        return None if enrollments == 0 else self.counts.revenue / enrollments

    @property
    @defined(d.LIFT)
    def lift(self) -> float | None:
        rate, base = self.conversion_rate, self.control_rate
        if self.control or rate is None or not base:
            return None
        return (rate - base) / base

    @property
    @defined(d.P_VALUE)
    def p_value(self) -> float | None:
        other = self.control_counts
        if self.control or other is None:
            return None
        mine = self.counts
        return p_value(mine.converted, mine.enrollments, other.converted, other.enrollments)


class ExperimentSummary(_Frozen):
    """One split node's experiment: its variants side by side, and its winner when decided."""

    node_id: str
    name: str | None
    control_id: str
    winner_rule: WinnerRule | None
    decision: ExperimentDecision | None
    variants: list[VariantResult]


def summarize(
    node: SplitNode, counts: list[VariantCounts], decision: ExperimentDecision | None
) -> ExperimentSummary:
    """The node's variants (in its order, those nobody took with zero counts) against its
    control."""
    by_id = {item.variant_id: item for item in counts}
    control = control_of(node)
    control_counts = by_id.get(control.id, VariantCounts(variant_id=control.id))
    return ExperimentSummary(
        node_id=node.id,
        name=node.name,
        control_id=control.id,
        winner_rule=node.winner,
        decision=decision,
        variants=[
            VariantResult(
                variant_id=variant.id,
                weight=variant.weight,
                holdout=variant.holdout,
                control=variant.id == control.id,
                counts=by_id.get(variant.id, VariantCounts(variant_id=variant.id)),
                control_rate=conversion_rate(control_counts),
                control_counts=control_counts,
            )
            for variant in node.variants
        ],
    )
