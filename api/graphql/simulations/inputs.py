"""What `simulateJourney` takes: the cohort (synthetic or backtest) and the options.

Inputs are turned into the simulator's own models' JSON (`raw_*`), which validate them, so an
out-of-range value is reported with its path (`cohort.synthetic.events.0.probability`).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON


@strawberry.enum(description="How arrivals spread over a synthetic cohort's arrival window.")
class ArrivalCurve(Enum):
    UNIFORM = strawberry.enum_value("uniform", description="Steadily.")
    FRONT_LOADED = strawberry.enum_value(
        "front_loaded", description="Most early, falling to none at the end (a launch)."
    )
    BACK_LOADED = strawberry.enum_value("back_loaded", description="The reverse: ramping up.")
    ALL_AT_START = strawberry.enum_value("all_at_start", description="Everyone at the start.")


@strawberry.enum(description="A delay distribution (hours).")
class DelayKind(Enum):
    FIXED = strawberry.enum_value("fixed", description="Exactly `hours`.")
    UNIFORM = strawberry.enum_value("uniform", description="Between `minHours` and `maxHours`.")
    EXPONENTIAL = strawberry.enum_value(
        "exponential", description="Mean `hours`: a steady rate, memoryless."
    )
    LOGNORMAL = strawberry.enum_value(
        "lognormal", description="Median `hours`, spread `sigma`: most soon, a long tail."
    )


@strawberry.enum(description="What a simulated event's delay counts from.")
class EventAfter(Enum):
    ENTRY = strawberry.enum_value("entry", description="The customer's entry.")
    PREVIOUS = strawberry.enum_value(
        "previous",
        description="The event model listed just before this one (none if that did not happen).",
    )


@strawberry.input(description="A delay distribution, in hours; draws are clipped to min/max.")
class DelayInput:
    kind: DelayKind = strawberry.field(default=DelayKind.FIXED, description="The distribution.")
    hours: float = strawberry.field(default=1.0, description="Fixed value, mean or median.")
    min_hours: float | None = strawberry.field(default=None, description="Lower clip.")
    max_hours: float | None = strawberry.field(default=None, description="Upper clip.")
    sigma: float = strawberry.field(default=1.0, description="Lognormal spread.")


@strawberry.input(
    description="How likely a synthetic customer emits an event of `type`, and when; repeats "
    "model a habit (a repurchase every few weeks)."
)
class SimulatedEventInput:
    type: str = strawberry.field(description="The event type, e.g. `order.paid`.")
    probability: float = strawberry.field(default=1.0, description="0 to 1: that it happens.")
    delay: DelayInput | None = strawberry.field(default=None, description="When, after `after`.")
    after: EventAfter = strawberry.field(default=EventAfter.ENTRY, description="Counted from.")
    properties: JSON | None = strawberry.field(default=None, description="Its properties.")
    repeat_probability: float = strawberry.field(
        default=0.0, description="0 to 1: that each further repeat happens."
    )
    max_repeats: int = strawberry.field(default=0, description="Repeats at most.")
    repeat_delay: DelayInput | None = strawberry.field(
        default=None, description="Between repeats (default: `delay`)."
    )


@strawberry.input(description="A seeded synthetic cohort: the same seed gives the same cohort.")
class SyntheticCohortInput:
    size: int = strawberry.field(description="Customers, up to 100,000.")
    seed: int = strawberry.field(default=0, description="Seeds every draw.")
    start: datetime | None = strawberry.field(
        default=None, description="When arrivals begin (ISO 8601); default 2026-01-05 02:00 UTC."
    )
    arrival_days: float = strawberry.field(default=7.0, description="Days arrivals spread over.")
    arrival: ArrivalCurve = strawberry.field(
        default=ArrivalCurve.UNIFORM, description="How they spread."
    )
    entry_event_type: str | None = strawberry.field(
        default=None, description="The event customers enter with (e.g. `wecom.contact_added`)."
    )
    entry_properties: JSON | None = strawberry.field(
        default=None, description="Its properties (e.g. the channel code's `state`)."
    )
    events: list[SimulatedEventInput] = strawberry.field(
        default_factory=list, description="The events customers emit after entry."
    )
    facts: JSON | None = strawberry.field(
        default=None,
        description="Who the customers are, by share: `{tags: [{tag, probability}], identities: "
        "[{kind, probability}], attributes: [{name, values: [{value, weight}], present}], "
        "opted_out: [{tag: <channel>, probability}]}`.",
    )


@strawberry.input(
    description="A backtest: the tenant's real customers and their recorded events in "
    "[`since`, `until`), replayed in time order; each arrives with their entry event (their "
    "first event there that the journey's entry trigger accepts) and replays the events after "
    "it; profiles (tags, attributes, identities, consent) as stored now."
)
class BacktestCohortInput:
    since: datetime = strawberry.field(description="The window's start (ISO 8601).")
    until: datetime = strawberry.field(description="The window's end, excluded.")
    entered_only: bool = strawberry.field(
        default=True,
        description="Only customers whose event in the window would have entered the journey; "
        "false: everyone with an event there, arriving with their first.",
    )
    limit: int | None = strawberry.field(
        default=None,
        description="Customers at most (up to 100,000, the default); a window with more fails "
        "the operation saying so.",
    )


@strawberry.input(description="Exactly one of `synthetic` and `backtest`.")
class SimulationCohortInput:
    synthetic: SyntheticCohortInput | None = strawberry.field(
        default=None, description="A seeded synthetic cohort."
    )
    backtest: BacktestCohortInput | None = strawberry.field(
        default=None, description="Real customers over a past window."
    )


@strawberry.input(description="The share of a channel's sends that succeed.")
class ChannelSuccessInput:
    channel: str = strawberry.field(description="The channel.")
    rate: float = strawberry.field(description="0 to 1.")


@strawberry.input(
    description="How to simulate; the tenant's messaging policy (caps, quiet hours) is always "
    "the stored one."
)
class SimulationOptionsInput:
    seed: int = strawberry.field(default=0, description="Seeds action outcomes and reactions.")
    action_success_rate: float = strawberry.field(
        default=1.0, description="0 to 1: the share of sends that succeed."
    )
    channel_success: list[ChannelSuccessInput] = strawberry.field(
        default_factory=list, description="Per-channel rates overriding `actionSuccessRate`."
    )
    wecom_allowance_override: int | None = strawberry.field(
        default=None, description="A lower WeCom mass-message allowance per period than WeCom's."
    )
    reactions: JSON | None = strawberry.field(
        default=None,
        description="Events the world answers actions with, a list of `{channel, action, "
        "node_id, event_type, probability, delay: {kind, hours, ...}, properties}` (e.g. "
        "`wecom.mass_message.result` hours after a mass-message task).",
    )


def _delay(delay: DelayInput | None) -> dict[str, Any] | None:
    if delay is None:
        return None
    return {
        "kind": delay.kind.value,
        "hours": delay.hours,
        "min_hours": delay.min_hours,
        "max_hours": delay.max_hours,
        "sigma": delay.sigma,
    }


def raw_synthetic(cohort: SyntheticCohortInput) -> dict[str, Any]:
    """The cohort as `simulator.models.SyntheticCohort` JSON (validated there)."""
    events = []
    for model in cohort.events:
        event: dict[str, Any] = {
            "type": model.type,
            "probability": model.probability,
            "after": model.after.value,
            "properties": model.properties or {},
            "repeat_probability": model.repeat_probability,
            "max_repeats": model.max_repeats,
            "repeat_delay": _delay(model.repeat_delay),
        }
        if model.delay is not None:
            event["delay"] = _delay(model.delay)
        events.append(event)
    raw: dict[str, Any] = {
        "size": cohort.size,
        "seed": cohort.seed,
        "arrival_days": cohort.arrival_days,
        "arrival": cohort.arrival.value,
        "entry_event_type": cohort.entry_event_type,
        "entry_properties": cohort.entry_properties or {},
        "events": events,
        "facts": cohort.facts or {},
    }
    if cohort.start is not None:
        raw["start"] = cohort.start
    return raw


def raw_backtest(cohort: BacktestCohortInput) -> dict[str, Any]:
    """The backtest as `api.services.simulations.BacktestSpec` JSON."""
    raw: dict[str, Any] = {
        "since": cohort.since,
        "until": cohort.until,
        "entered_only": cohort.entered_only,
    }
    if cohort.limit is not None:
        raw["limit"] = cohort.limit
    return raw


def raw_options(options: SimulationOptionsInput | None) -> dict[str, Any]:
    """The options as `simulator.models.SimulationOptions` JSON (without the window and policy,
    which the service sets)."""
    if options is None:
        return {}
    raw: dict[str, Any] = {
        "seed": options.seed,
        "action_success_rate": options.action_success_rate,
        "channel_success": [
            {"channel": c.channel, "rate": c.rate} for c in options.channel_success
        ],
        "wecom_allowance_override": options.wecom_allowance_override,
    }
    if options.reactions is not None:
        raw["reactions"] = options.reactions
    return raw
