"""The counts the store's aggregations return, and the rates derived from them.

The definitions are `domain.metrics.definitions`'s; each rate's docstring is its definition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, Field

from domain.metrics import definitions as d
from domain.metrics.definitions import RETENTION_DAYS, RETENTION_WINDOW_DAYS, defined
from domain.metrics.scope import Frozen


def safe_div(numerator: float, denominator: float) -> float | None:
    """`numerator / denominator`, or None when the denominator is zero."""
    if denominator == 0:
        return None
    return numerator / denominator


class CommerceCounts(Frozen):
    """Raw counts of a cohort and its paid orders; the levers are derived from them."""

    entered: int = Field(ge=0, description=d.ENTERED.description)
    buyers: int = Field(ge=0, description=d.BUYERS.description)
    repeat_buyers: int = Field(ge=0, description=d.REPEAT_BUYERS.description)
    orders: int = Field(ge=0, description=d.ORDERS.description)
    revenue: float = Field(ge=0, description=d.REVENUE.description)

    @classmethod
    def empty(cls) -> CommerceCounts:
        """The counts of a cohort nobody entered."""
        return cls(entered=0, buyers=0, repeat_buyers=0, orders=0, revenue=0.0)

    @property
    @defined(d.CONVERSION_RATE)
    def conversion_rate(self) -> float | None:
        return safe_div(self.buyers, self.entered)

    @property
    @defined(d.REPURCHASE_RATE)
    def repurchase_rate(self) -> float | None:
        return safe_div(self.repeat_buyers, self.buyers)

    @property
    @defined(d.PURCHASE_FREQUENCY)
    def purchase_frequency(self) -> float | None:
        return safe_div(self.orders, self.buyers)

    @property
    @defined(d.AOV)
    def aov(self) -> float | None:
        return safe_div(self.revenue, self.orders)

    @property
    @defined(d.ARPU)
    def arpu(self) -> float | None:
        return safe_div(self.revenue, self.entered)


def arpu_from_factors(
    conversion_rate: float | None, purchase_frequency: float | None, aov: float | None
) -> float | None:
    """conversion rate * purchase frequency * AOV (see `ARPU`); 0 when nobody converted, None
    when nobody entered."""
    if conversion_rate is None:
        return None
    if conversion_rate == 0:
        return 0.0
    if purchase_frequency is None or aov is None:
        return None
    return conversion_rate * purchase_frequency * aov


class JourneyConversion(Frozen):
    """Enrollments started in the range, how many reached a goal, and how long it took."""

    started: int = Field(ge=0, description=d.STARTED.description)
    converted: int = Field(ge=0, description=d.CONVERTED.description)
    median_time_to_convert: timedelta | None = Field(
        default=None, description=d.MEDIAN_TIME_TO_CONVERT.description
    )
    mean_time_to_convert: timedelta | None = Field(
        default=None, description=d.MEAN_TIME_TO_CONVERT.description
    )

    @property
    @defined(d.JOURNEY_CONVERSION_RATE)
    def conversion_rate(self) -> float | None:
        return safe_div(self.converted, self.started)


class RetentionPoint(Frozen):
    """Day-N retention of a cohort (or of several, summed); see `definitions.RETENTION`."""

    day: int
    eligible: int = Field(ge=0, description=d.ELIGIBLE.description)
    retained: int = Field(ge=0, description=d.RETAINED.description)

    @property
    @defined(d.RETENTION_RATE)
    def rate(self) -> float | None:
        return safe_div(self.retained, self.eligible)


class RetentionCohort(Frozen):
    """Customers whose entry fell in the ISO week starting `week_start` (Monday, UTC)."""

    week_start: AwareDatetime
    entered: int = Field(ge=0)
    points: list[RetentionPoint]


def overall_retention(cohorts: list[RetentionCohort]) -> list[RetentionPoint]:
    """Every cohort's points summed per day: the range's retention as one number per day."""
    return [
        RetentionPoint(
            day=day,
            eligible=sum(p.eligible for c in cohorts for p in c.points if p.day == day),
            retained=sum(p.retained for c in cohorts for p in c.points if p.day == day),
        )
        for day in RETENTION_DAYS
    ]


class EdgeCount(Frozen):
    """Transitions out of a node along one edge label."""

    label: str
    target: str
    count: int = Field(ge=0)


class ExitCount(Frozen):
    """Enrollments that ended at a node, by reason."""

    reason: str
    count: int = Field(ge=0)


class FunnelNode(Frozen):
    """One node of a journey's funnel (see `definitions.FUNNEL`)."""

    node_id: str
    kind: str
    name: str | None = None
    entered: int = Field(ge=0, description=d.VISITS.description)
    enrollments: int = Field(ge=0, description=d.NODE_ENROLLMENTS.description)
    proceeded: list[EdgeCount] = Field(default_factory=list)
    exited: list[ExitCount] = Field(default_factory=list)
    converted: int = Field(ge=0, description=d.NODE_CONVERTED.description)

    @property
    def proceeded_total(self) -> int:
        """Transitions out of the node to another node."""
        return sum(edge.count for edge in self.proceeded)

    @property
    def exited_total(self) -> int:
        """Enrollments that ended at the node."""
        return sum(exit_.count for exit_ in self.exited)

    @property
    @defined(d.PROCEED_RATE)
    def proceed_rate(self) -> float | None:
        return safe_div(self.proceeded_total, self.entered)

    @property
    @defined(d.EXIT_RATE)
    def exit_rate(self) -> float | None:
        return safe_div(self.exited_total, self.entered)

    @property
    @defined(d.NODE_CONVERSION_RATE)
    def conversion_rate(self) -> float | None:
        return safe_div(self.converted, self.enrollments)


class Funnel(Frozen):
    """Per-node counts of a journey's enrollments started in a range, in definition order."""

    started: int = Field(ge=0, description=d.STARTED.description)
    nodes: list[FunnelNode]

    @defined(d.REACH_RATE)
    def reach_rate(self, node: FunnelNode) -> float | None:
        return safe_div(node.enrollments, self.started)


class DeliveryCounts(Frozen):
    """Deliveries on one channel created in a range, by status, and the customers they reached."""

    channel: str
    total: int = Field(ge=0)
    succeeded: int = Field(ge=0)
    failed: int = Field(ge=0)
    pending: int = Field(ge=0)
    skipped: int = Field(default=0, ge=0, description="Not attempted: the customer opted out.")
    customers_reached: int = Field(ge=0, description=d.CUSTOMERS_REACHED.description)

    @property
    @defined(d.DELIVERY_SUCCESS_RATE)
    def success_rate(self) -> float | None:
        return safe_div(self.succeeded, self.total)


def day_window(entered_at: datetime, day: int) -> tuple[datetime, datetime]:
    """The activity window of day-`day` retention: days `day-6`..`day` after entering."""
    start = entered_at + timedelta(days=day - RETENTION_WINDOW_DAYS + 1)
    end = entered_at + timedelta(days=day + 1)
    return start, end
