"""The levers of a cohort and its retention, as the metrics objects expose them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.metrics.fields import defined_field
from domain import metrics as m
from domain.metrics import definitions as d

_DAYS = ", ".join(str(day) for day in d.RETENTION_DAYS)


@strawberry.type(description="The levers of a cohort over [from, to). " + d.PAID_ORDER.description)
class Levers:
    entered: int = defined_field(d.ENTERED)
    buyers: int = defined_field(d.BUYERS)
    repeat_buyers: int = defined_field(d.REPEAT_BUYERS)
    orders: int = defined_field(d.ORDERS)
    revenue: float = defined_field(d.REVENUE)
    conversion_rate: float | None = defined_field(d.CONVERSION_RATE)
    repurchase_rate: float | None = defined_field(d.REPURCHASE_RATE)
    purchase_frequency: float | None = defined_field(d.PURCHASE_FREQUENCY)
    aov: float | None = defined_field(d.AOV)
    arpu: float | None = defined_field(d.ARPU)

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
    day: int = strawberry.field(description=f"N: one of {_DAYS}.")
    eligible: int = defined_field(d.ELIGIBLE)
    retained: int = defined_field(d.RETAINED)
    rate: float | None = defined_field(d.RETENTION_RATE)

    @classmethod
    def of(cls, point: m.RetentionPoint) -> RetentionPoint:
        return cls(day=point.day, eligible=point.eligible, retained=point.retained, rate=point.rate)


@strawberry.type(description="Customers who entered in one week, and their retention.")
class RetentionCohort:
    week_start: datetime = strawberry.field(description="Monday 00:00 UTC of the entry week.")
    entered: int = strawberry.field(description="Customers who entered that week.")
    points: list[RetentionPoint] = strawberry.field(description=f"Days {_DAYS}.")

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
