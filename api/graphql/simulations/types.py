"""Simulation results, shaped for charts: every series is a list of (day, date, value) points
over the same days (`SimulationResult.dates`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from api.graphql.operations.types import BulkOperation
from simulator import models as sim


@strawberry.type(description="A value on one simulated day.")
class DayValue:
    day: int = strawberry.field(description="Day index: 0 is the window's first day.")
    date: date = strawberry.field(description="The day's date (UTC).")
    value: int = strawberry.field(description="The value that day.")

    @classmethod
    def list_of(cls, points: list[sim.DayPoint]) -> list[DayValue]:
        return [cls(day=p.day, date=p.date, value=p.value) for p in points]


@strawberry.type(description="One node's funnel over the simulated window.")
class SimulatedNode:
    node_id: str = strawberry.field(description="The node id.")
    kind: str = strawberry.field(description="Its kind (`action`, `wait`, ...).")
    name: str | None = strawberry.field(description="Its name, if it has one.")
    entered: int = strawberry.field(description="Visits (a loop counts each time).")
    customers: int = strawberry.field(description="Distinct customers who entered it.")
    exited: int = strawberry.field(description="Visits that left it.")
    current: int = strawberry.field(description="Enrollments at it when the window ends.")
    occupancy: list[DayValue] = strawberry.field(
        description="Enrollments at it at the end of each day."
    )
    entries: list[DayValue] = strawberry.field(description="Visits that entered it each day.")

    @classmethod
    def of(cls, node: sim.NodeFunnel) -> SimulatedNode:
        return cls(
            node_id=node.node_id,
            kind=node.kind,
            name=node.name,
            entered=node.entered,
            customers=node.customers,
            exited=node.exited,
            current=node.current,
            occupancy=DayValue.list_of(node.occupancy),
            entries=DayValue.list_of(node.entries),
        )


@strawberry.type(description="How many times one edge was taken.")
class SimulatedEdge:
    source: str | None = strawberry.field(description="The node it leaves.")
    label: str = strawberry.field(description="The edge's label (`next`, `matched`, ...).")
    target: str | None = strawberry.field(description="The node it enters; null: the end.")
    count: int = strawberry.field(description="Times taken.")


@strawberry.type(
    description="Message volumes of one channel on one day (or in total): what reached the "
    "channel's gates, what went out, and what caps, quiet hours, consent and WeCom's allowance "
    "held or skipped."
)
class ChannelDayVolume:
    day: int = strawberry.field(description="Day index (-1 for totals).")
    date: date | None = strawberry.field(description="The day's date; null for totals.")
    attempted: int = strawberry.field(description="Action runs that reached the gates.")
    sent: int = strawberry.field(description="Sends that went out.")
    held_quiet_hours: int = strawberry.field(description="Holds by quiet hours.")
    held_cap: int = strawberry.field(description="Holds by a full frequency cap (`wait`).")
    skipped_cap: int = strawberry.field(description="Skips by a full frequency cap (`skip`).")
    skipped_consent: int = strawberry.field(description="Skips: the customer opted out.")
    skipped_allowance: int = strawberry.field(
        description="WeCom mass messages refused: the customer's allowance was used up."
    )
    failed: int = strawberry.field(description="Sends that failed for good.")

    @classmethod
    def of(cls, volume: sim.ChannelDay, *, total: bool = False) -> ChannelDayVolume:
        return cls(
            day=-1 if total else volume.day,
            date=None if total else volume.date,
            attempted=volume.attempted,
            sent=volume.sent,
            held_quiet_hours=volume.held_quiet_hours,
            held_cap=volume.held_cap,
            skipped_cap=volume.skipped_cap,
            skipped_consent=volume.skipped_consent,
            skipped_allowance=volume.skipped_allowance,
            failed=volume.failed,
        )


@strawberry.type(description="One channel's daily volumes and their totals.")
class SimulatedChannel:
    channel: str = strawberry.field(description="The channel (`wecom`, `sms`, `oa`, ...).")
    days: list[ChannelDayVolume] = strawberry.field(description="Every day of the window.")
    totals: ChannelDayVolume = strawberry.field(description="The window's totals.")


@strawberry.type(description="Totals of one action node.")
class SimulatedAction:
    node_id: str = strawberry.field(description="The action node.")
    channel: str = strawberry.field(description="Its channel.")
    action: str = strawberry.field(description="Its action.")
    volumes: ChannelDayVolume = strawberry.field(description="Its totals (day -1).")


@strawberry.type(
    description="How often a cap stopped sends: the tenant's frequency caps by id, and "
    "`wecom.allowance` for WeCom's per-customer mass-message allowance."
)
class SimulatedCapHit:
    cap_id: str = strawberry.field(description="The cap's id, or `wecom.allowance`.")
    held: int = strawberry.field(description="Sends it held (to try again later).")
    skipped: int = strawberry.field(description="Sends it skipped.")
    customers: int = strawberry.field(description="Distinct customers it stopped.")
    per_day: list[DayValue] = strawberry.field(description="Holds and skips per day.")


@strawberry.type(description="Conversions of one goal node.")
class GoalConversions:
    goal_id: str = strawberry.field(description="The goal node.")
    count: int = strawberry.field(description="Conversions at it.")


@strawberry.type(description="Predicted conversion, and the time from entry to converting.")
class SimulatedConversions:
    count: int = strawberry.field(description="Customers converted.")
    rate: float = strawberry.field(description="Converted / enrolled (0 to 1).")
    p50_hours: float | None = strawberry.field(description="Median hours entry → conversion.")
    p90_hours: float | None = strawberry.field(description="90th percentile of those hours.")
    mean_hours: float | None = strawberry.field(description="Mean of those hours.")
    per_day: list[DayValue] = strawberry.field(description="Conversions per day.")
    by_goal: list[GoalConversions] = strawberry.field(description="Per goal node.")


@strawberry.type(description="Enrollments by how they stand when the window ends.")
class SimulatedOutcome:
    status: str = strawberry.field(
        description="`active` (still in the journey), `completed`, `exited`, `cancelled`..."
    )
    reason: str | None = strawberry.field(description="The exit reason; null in status totals.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(
    description="What the journey would do to the cohort: per-node funnel and occupancy per "
    "day, edges taken, message volumes per channel per day, cap and quiet-hour hits, predicted "
    "conversion and time to convert."
)
class SimulationResult:
    start: datetime = strawberry.field(description="The window's start (ISO 8601).")
    days: int = strawberry.field(description="The window's length in days.")
    dates: list[date] = strawberry.field(description="The window's days: index = `day`.")
    customers: int = strawberry.field(description="Customers in the cohort.")
    enrolled: int = strawberry.field(description="Customers who arrived in the window.")
    steps: int = strawberry.field(description="Engine steps run.")
    events_delivered: int = strawberry.field(description="Customer events delivered.")
    nodes: list[SimulatedNode] = strawberry.field(description="Per node, in definition order.")
    edges: list[SimulatedEdge] = strawberry.field(description="Edges taken, with counts.")
    channels: list[SimulatedChannel] = strawberry.field(description="Per channel volumes.")
    actions: list[SimulatedAction] = strawberry.field(description="Per action node totals.")
    cap_hits: list[SimulatedCapHit] = strawberry.field(description="Per cap.")
    conversions: SimulatedConversions = strawberry.field(description="Predicted conversion.")
    ended: list[SimulatedOutcome] = strawberry.field(description="Enrollments by final status.")
    reasons: list[SimulatedOutcome] = strawberry.field(
        description="Ended enrollments by status and reason."
    )
    notes: list[str] = strawberry.field(
        description="Where the simulation is knowingly simpler than the live system."
    )

    @classmethod
    def of(cls, result: sim.SimulationResult) -> SimulationResult:
        conversions = result.conversions
        return cls(
            start=result.start,
            days=result.days,
            dates=list(result.dates),
            customers=result.customers,
            enrolled=result.enrolled,
            steps=result.steps,
            events_delivered=result.events_delivered,
            nodes=[SimulatedNode.of(node) for node in result.nodes],
            edges=[
                SimulatedEdge(source=e.source, label=e.label, target=e.target, count=e.count)
                for e in result.edges
            ],
            channels=[
                SimulatedChannel(
                    channel=c.channel,
                    days=[ChannelDayVolume.of(day) for day in c.days],
                    totals=ChannelDayVolume.of(c.totals, total=True),
                )
                for c in result.channels
            ],
            actions=[
                SimulatedAction(
                    node_id=a.node_id,
                    channel=a.channel,
                    action=a.action,
                    volumes=ChannelDayVolume.of(
                        sim.ChannelDay(day=-1, date=date.min, **_counts(a)), total=True
                    ),
                )
                for a in result.actions
            ],
            cap_hits=[
                SimulatedCapHit(
                    cap_id=h.cap_id,
                    held=h.held,
                    skipped=h.skipped,
                    customers=h.customers,
                    per_day=DayValue.list_of(h.per_day),
                )
                for h in result.cap_hits
            ],
            conversions=SimulatedConversions(
                count=conversions.count,
                rate=conversions.rate,
                p50_hours=conversions.p50_hours,
                p90_hours=conversions.p90_hours,
                mean_hours=conversions.mean_hours,
                per_day=DayValue.list_of(conversions.per_day),
                by_goal=[
                    GoalConversions(goal_id=g.goal_id, count=g.count) for g in conversions.by_goal
                ],
            ),
            ended=[
                SimulatedOutcome(status=e.status, reason=None, count=e.count) for e in result.ended
            ],
            reasons=[
                SimulatedOutcome(status=r.status, reason=r.reason, count=r.count)
                for r in result.reasons
            ],
            notes=list(result.notes),
        )


def _counts(action: sim.ActionVolumes) -> dict[str, int]:
    return action.model_dump(exclude={"node_id", "channel", "action"})


@strawberry.enum(description="Where a simulation's customers come from.")
class CohortKind(Enum):
    SYNTHETIC = strawberry.enum_value(
        "synthetic", description="Generated from a seeded model (size, arrivals, event odds)."
    )
    BACKTEST = strawberry.enum_value(
        "backtest", description="The tenant's real customers and events over a past window."
    )


@strawberry.type(
    description="A journey simulation: the tracked operation running it (kind `SIMULATE`; its "
    "counts are customers) and, once it has `SUCCEEDED`, its result."
)
class Simulation:
    id: strawberry.ID = strawberry.field(description="The operation id.")
    journey_id: strawberry.ID = strawberry.field(description="The journey simulated.")
    version: int | None = strawberry.field(description="The version simulated; null: the draft.")
    cohort: CohortKind = strawberry.field(description="Where its customers came from.")
    days: int = strawberry.field(description="The simulated window, in days.")
    operation: BulkOperation = strawberry.field(description="Its progress.")
    result: SimulationResult | None = strawberry.field(
        description="The result; null until the operation has `SUCCEEDED` (and after it expires, "
        "30 days on)."
    )
