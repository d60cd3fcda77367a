"""Metrics the private-domain field runs on: definitions and the arithmetic over raw counts.

The counts come from the store's aggregations; this module turns them into rates. Every rate
is a safe division: `None` when its denominator is zero ("no data"), never a division error.
Definitions (the project's, from METRICS.md), for a tenant over a half-open range `[from, to)`:

- **Cohort ("entered")** — who a metric is about. Tenant-wide or per hook: customers whose first
  touch (the customer record's creation) fell in the range, optionally through one hook (the
  customer's `first_touch_hook`), entering at their first touch. Per journey (and version):
  customers with an enrollment started in the range, entering at their earliest such start.
  Per channel: customers with a successful delivery on the channel in the range, entering at
  the first one.
- **Conversion rate** — cohort customers with ≥ 1 paid order after entering (and before the
  range's end) ÷ customers who entered. For a journey, besides: enrollments started in the range
  that reached a goal ÷ enrollments started, and the median and mean time-to-convert
  (`converted_at - started_at`).
- **Repurchase rate (复购率)** — customers with ≥ 2 paid orders ÷ customers with ≥ 1.
- **Purchase frequency (复购频次)** — paid orders ÷ customers with ≥ 1 paid order.
- **AOV (客单价)** — paid-order revenue ÷ paid orders.
- **ARPU** — revenue ÷ customers who entered = conversion * frequency * AOV (the identity holds
  because all three use the same cohort and the same orders).
- **Retention N-day (7/30/90)** — per cohort of customers whose entry fell in one ISO week
  (Monday 00:00 UTC), the share active on day N: at least one event of their own (any event but
  a contact deletion) in days N-6..N after entering, and still reachable (their last WeCom
  contact event before the end of day N is not `wecom.contact_deleted_by_customer`). Only
  customers whose day N has ended are counted ("eligible").
- **Private-domain users** — customers first touched before the range's end with a reachable
  identity at its end: a WeCom contact whose last contact event is not a deletion, an OpenID
  (OA follower / mini-program), or a phone with SMS consent.
- **Funnel per node** — over the enrollments started in the range: for each node, entered
  (visits; loops count each time) and distinct enrollments, proceeded (by edge label and
  target), exited (by reason), and converted (enrollments that reached a goal at or after first
  entering the node). A visit ends in exactly one of proceeded, exited or still there, so
  `proceeded + exited ≤ entered`.

A paid order is an event of type `order.paid`; its revenue is `properties.total`, or
`properties.amount` when there is no total (a number or a numeric string; anything else,
or a negative amount, counts 0).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

ORDER_PAID = "order.paid"
CONTACT_ADDED = "wecom.contact_added"
CONTACT_DELETED = "wecom.contact_deleted_by_customer"
RETENTION_DAYS: tuple[int, ...] = (7, 30, 90)
RETENTION_WINDOW_DAYS = 7
MAX_RANGE = timedelta(days=366)
"""The longest range one metrics query may cover: a year (leap years too). Every metric is an
aggregation over the range, so the range bounds the work one request can ask of MongoDB."""


def safe_div(numerator: float, denominator: float) -> float | None:
    """`numerator / denominator`, or None when the denominator is zero."""
    if denominator == 0:
        return None
    return numerator / denominator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(_Frozen):
    """The half-open range `[start, end)`, at most `MAX_RANGE` long."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("a time range must end after it starts")
        if self.end - self.start > MAX_RANGE:
            raise ValueError(
                f"a time range spans at most {MAX_RANGE.days} days; ask for several shorter ranges"
            )
        return self


class CommerceCounts(_Frozen):
    """Raw counts of a cohort and its paid orders; the levers are derived from them."""

    entered: int = Field(ge=0, description="Customers in the cohort.")
    buyers: int = Field(ge=0, description="Customers with ≥ 1 paid order after entering.")
    repeat_buyers: int = Field(ge=0, description="Customers with ≥ 2 paid orders.")
    orders: int = Field(ge=0)
    revenue: float = Field(ge=0)

    @classmethod
    def empty(cls) -> CommerceCounts:
        """The counts of a cohort nobody entered."""
        return cls(entered=0, buyers=0, repeat_buyers=0, orders=0, revenue=0.0)

    @property
    def conversion_rate(self) -> float | None:
        """buyers ÷ entered."""
        return safe_div(self.buyers, self.entered)

    @property
    def repurchase_rate(self) -> float | None:
        """repeat buyers ÷ buyers (复购率)."""
        return safe_div(self.repeat_buyers, self.buyers)

    @property
    def purchase_frequency(self) -> float | None:
        """orders ÷ buyers (复购频次)."""
        return safe_div(self.orders, self.buyers)

    @property
    def aov(self) -> float | None:
        """revenue ÷ orders (客单价)."""
        return safe_div(self.revenue, self.orders)

    @property
    def arpu(self) -> float | None:
        """revenue ÷ entered; equals conversion * frequency * AOV whenever there are buyers."""
        return safe_div(self.revenue, self.entered)


def arpu_from_factors(
    conversion_rate: float | None, purchase_frequency: float | None, aov: float | None
) -> float | None:
    """conversion * frequency * AOV; 0 when nobody converted, None when nobody entered."""
    if conversion_rate is None:
        return None
    if conversion_rate == 0:
        return 0.0
    if purchase_frequency is None or aov is None:
        return None
    return conversion_rate * purchase_frequency * aov


class JourneyConversion(_Frozen):
    """Enrollments started in the range, how many reached a goal, and how long it took."""

    started: int = Field(ge=0)
    converted: int = Field(ge=0)
    median_time_to_convert: timedelta | None = None
    mean_time_to_convert: timedelta | None = None

    @property
    def conversion_rate(self) -> float | None:
        """converted ÷ started."""
        return safe_div(self.converted, self.started)


class RetentionPoint(_Frozen):
    """Day-N retention of a cohort (or of several, summed)."""

    day: int
    eligible: int = Field(ge=0, description="Cohort members whose day N has ended.")
    retained: int = Field(ge=0)

    @property
    def rate(self) -> float | None:
        """retained ÷ eligible."""
        return safe_div(self.retained, self.eligible)


class RetentionCohort(_Frozen):
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


class EdgeCount(_Frozen):
    """Transitions out of a node along one edge label."""

    label: str
    target: str
    count: int = Field(ge=0)


class ExitCount(_Frozen):
    """Enrollments that ended at a node, by reason."""

    reason: str
    count: int = Field(ge=0)


class FunnelNode(_Frozen):
    """One node of a journey's funnel."""

    node_id: str
    kind: str
    name: str | None = None
    entered: int = Field(ge=0, description="Transitions into the node (visits; loops count).")
    enrollments: int = Field(ge=0, description="Distinct enrollments that entered it.")
    proceeded: list[EdgeCount] = Field(default_factory=list)
    exited: list[ExitCount] = Field(default_factory=list)
    converted: int = Field(ge=0, description="Enrollments that converted after entering it.")

    @property
    def proceeded_total(self) -> int:
        """Transitions out of the node to another node."""
        return sum(edge.count for edge in self.proceeded)

    @property
    def exited_total(self) -> int:
        """Enrollments that ended at the node."""
        return sum(exit_.count for exit_ in self.exited)

    @property
    def proceed_rate(self) -> float | None:
        """proceeded ÷ entered (visits)."""
        return safe_div(self.proceeded_total, self.entered)

    @property
    def exit_rate(self) -> float | None:
        """exited ÷ entered (visits)."""
        return safe_div(self.exited_total, self.entered)

    @property
    def conversion_rate(self) -> float | None:
        """converted ÷ enrollments."""
        return safe_div(self.converted, self.enrollments)


class Funnel(_Frozen):
    """Per-node counts of a journey's enrollments started in a range, in definition order."""

    started: int = Field(ge=0, description="Enrollments started in the range.")
    nodes: list[FunnelNode]

    def reach_rate(self, node: FunnelNode) -> float | None:
        """The share of started enrollments that entered `node`."""
        return safe_div(node.enrollments, self.started)


class DeliveryCounts(_Frozen):
    """Deliveries on one channel created in a range, by status, and the customers they reached."""

    channel: str
    total: int = Field(ge=0)
    succeeded: int = Field(ge=0)
    failed: int = Field(ge=0)
    pending: int = Field(ge=0)
    customers_reached: int = Field(ge=0, description="Distinct customers with a success.")

    @property
    def success_rate(self) -> float | None:
        """succeeded ÷ total."""
        return safe_div(self.succeeded, self.total)


def day_window(entered_at: datetime, day: int) -> tuple[datetime, datetime]:
    """The activity window of day-`day` retention: days `day-6`..`day` after entering."""
    start = entered_at + timedelta(days=day - RETENTION_WINDOW_DAYS + 1)
    end = entered_at + timedelta(days=day + 1)
    return start, end


class AudienceCut(_Frozen):
    """Customers by first touch, optionally through one hook, or broken down by hook."""

    kind: Literal["audience"] = "audience"
    hook: str | None = None
    by_hook: bool = Field(default=False, description="One result per first-touch hook.")


class JourneyCut(_Frozen):
    """Customers enrolled in a journey (and version), optionally first touched through a hook."""

    kind: Literal["journey"] = "journey"
    journey_id: str
    version: int | None = Field(default=None, ge=1)
    hook: str | None = None


class ChannelCut(_Frozen):
    """Customers reached on each channel (optionally by one journey's deliveries)."""

    kind: Literal["channel"] = "channel"
    journey_id: str | None = None


Cut = AudienceCut | JourneyCut | ChannelCut
"""Who a metric is about; results are keyed by hook (`by_hook`), by channel, or by None."""
