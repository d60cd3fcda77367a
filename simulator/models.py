"""The simulator's public interface: cohorts going in, options, and the result coming out.

A simulation runs a cohort of `SimCustomer`s through one journey version under a virtual clock
(`simulator.engine.simulate`). Customers come either from a `SyntheticCohort` (seeded, generated
by `SyntheticCohort.customers()`) or from a backtest (real customers and their recorded events,
built by the caller into the same `SimCustomer` shape). Everything here is plain data: the result
is made of lists of points (day index and date), so a front-end can chart it directly.

Times are aware datetimes (UTC recommended). Durations of the event model are in hours.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from domain.channels import MassMessageLimit
from domain.engine import EngineStatus
from domain.messaging import MessagingPolicy


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- customers --------------------------------------------------------------------------------


class SimEvent(_Model):
    """An event the simulated customer emits at `at` (delivered to their enrollment then)."""

    type: str = Field(min_length=1)
    at: AwareDatetime
    properties: dict[str, Any] = Field(default_factory=dict)


class SimCustomer(_Model):
    """One simulated customer: when they enter the journey, what is known of them (as
    `domain.conditions.CustomerFacts` sees it), the events they will emit, and the channels
    they opted out of (their sends there are skipped, as the live channel activity does)."""

    id: str = Field(min_length=1)
    arrives_at: AwareDatetime
    """When the customer enters the journey (the enrollment's `Start`)."""
    entry_event: SimEvent | None = None
    """The event that enrolled them (e.g. the WeCom add event), if entry is by event."""
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    identity_kinds: list[str] = Field(default_factory=list)
    """Kinds of identity the customer has (`wecom_external_userid`, `phone`, `wechat_openid`)."""
    events: list[SimEvent] = Field(default_factory=list)
    """Events after entry, in any order (the simulator sorts them by time)."""
    opted_out: list[str] = Field(default_factory=list)
    """Channels the customer refused (`consent.<channel>` = opted_out)."""
    run: str | None = None
    """The enrollment run's key (`domain.engine.run_key`), which with the enrollment id decides
    experiment splits; by default the one of a run started at `arrives_at`. A backtest gives
    the recorded run's, so its splits go as they went."""


# -- synthetic cohorts ------------------------------------------------------------------------


DelayKind = Literal["fixed", "uniform", "exponential", "lognormal"]


class Delay(_Model):
    """A delay distribution, in hours.

    - `fixed`: exactly `hours`.
    - `uniform`: between `min_hours` and `max_hours`.
    - `exponential`: mean `hours` (memoryless: "buys at a steady rate").
    - `lognormal`: median `hours`, spread `sigma` (most soon, a long tail).
    Every draw is clipped to [`min_hours`, `max_hours`] when those are set.
    """

    kind: DelayKind = "fixed"
    hours: float = Field(default=1.0, ge=0)
    min_hours: float | None = Field(default=None, ge=0)
    max_hours: float | None = Field(default=None, ge=0)
    sigma: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _bounds(self) -> Delay:
        if self.kind == "uniform" and (self.min_hours is None or self.max_hours is None):
            raise ValueError("a uniform delay needs min_hours and max_hours")
        if (
            self.min_hours is not None
            and self.max_hours is not None
            and self.min_hours > self.max_hours
        ):
            raise ValueError("min_hours must not exceed max_hours")
        return self

    def draw(self, rng: random.Random) -> timedelta:
        """One delay drawn with `rng`."""
        if self.kind == "fixed":
            hours = self.hours
        elif self.kind == "uniform":
            assert self.min_hours is not None and self.max_hours is not None
            hours = rng.uniform(self.min_hours, self.max_hours)
        elif self.kind == "exponential":
            hours = rng.expovariate(1.0 / self.hours) if self.hours > 0 else 0.0
        else:
            hours = self.hours * math.exp(rng.gauss(0.0, self.sigma)) if self.hours > 0 else 0.0
        if self.min_hours is not None:
            hours = max(hours, self.min_hours)
        if self.max_hours is not None:
            hours = min(hours, self.max_hours)
        return timedelta(hours=hours)


class PropertyChoice(_Model):
    """One set of event properties and how often it is chosen (relative weight)."""

    weight: float = Field(default=1.0, ge=0)
    properties: dict[str, Any] = Field(default_factory=dict)


class EventModel(_Model):
    """How likely a customer emits an event of `type`, and when.

    With `probability` the event happens once, `delay` after the customer's entry (`after` =
    `entry`) or after the previous event model's occurrence (`after` = `previous`: the one listed
    just before this one in the cohort; when that did not happen, neither does this). After an
    occurrence, each further repeat happens with `repeat_probability` (at most `max_repeats`),
    `repeat_delay` (else `delay`) after the one before: a repurchase habit. Properties are
    `properties` merged with one weighted `choices` entry, when any.
    """

    type: str = Field(min_length=1)
    probability: float = Field(default=1.0, ge=0, le=1)
    delay: Delay = Field(default_factory=Delay)
    after: Literal["entry", "previous"] = "entry"
    properties: dict[str, Any] = Field(default_factory=dict)
    choices: list[PropertyChoice] = Field(default_factory=list)
    repeat_probability: float = Field(default=0.0, ge=0, le=1)
    max_repeats: int = Field(default=0, ge=0, le=1000)
    repeat_delay: Delay | None = None


class TagShare(_Model):
    """The share of customers that have `tag`."""

    tag: str = Field(min_length=1)
    probability: float = Field(ge=0, le=1)


class IdentityShare(_Model):
    """The share of customers that have an identity of `kind` (e.g. `wechat_openid`)."""

    kind: str = Field(min_length=1)
    probability: float = Field(ge=0, le=1)


class AttributeValue(_Model):
    """One value of an attribute and its relative weight."""

    value: Any = None
    weight: float = Field(default=1.0, ge=0)


class AttributeMix(_Model):
    """The distribution of one attribute's values (`present` = the share that has it at all)."""

    name: str = Field(min_length=1)
    values: list[AttributeValue] = Field(min_length=1)
    present: float = Field(default=1.0, ge=0, le=1)


class FactMix(_Model):
    """What the cohort's customers are like: tags, identities and attributes by share."""

    tags: list[TagShare] = Field(default_factory=list)
    identities: list[IdentityShare] = Field(default_factory=list)
    attributes: list[AttributeMix] = Field(default_factory=list)
    opted_out: list[TagShare] = Field(default_factory=list)
    """Per channel (in `tag`), the share of customers who opted out of it."""


ArrivalCurve = Literal["uniform", "front_loaded", "back_loaded", "all_at_start"]


class SyntheticCohort(_Model):
    """A seeded synthetic cohort: `size` customers arriving over `arrival_days` from `start`.

    Arrival curves: `uniform` (steady), `front_loaded` (most early, density falling linearly to
    zero), `back_loaded` (the reverse), `all_at_start`. The same seed gives the same customers.
    """

    size: int = Field(ge=0, le=10_000_000)
    seed: int = 0
    start: AwareDatetime = Field(default_factory=lambda: datetime(2026, 1, 5, 2, 0, tzinfo=UTC))
    arrival_days: float = Field(default=7.0, ge=0)
    arrival: ArrivalCurve = "uniform"
    entry_event_type: str | None = None
    """The type of the event that enrolls customers (e.g. `wecom.contact.added`), if any."""
    entry_properties: dict[str, Any] = Field(default_factory=dict)
    events: list[EventModel] = Field(default_factory=list)
    facts: FactMix = Field(default_factory=FactMix)
    id_prefix: str = "sim"

    @model_validator(mode="after")
    def _previous(self) -> SyntheticCohort:
        if self.events and self.events[0].after == "previous":
            raise ValueError("the first event model cannot come after a previous one")
        return self

    def customers(self, start: int = 0, stop: int | None = None) -> Iterator[SimCustomer]:
        """The cohort's customers in arrival order (deterministic for the seed); `start` and
        `stop` slice that order (as `list(...)[start:stop]` would, without making the rest)."""
        return generate_customers(self, start, stop)


def _arrival_offset(curve: ArrivalCurve, days: float, rng: random.Random) -> float:
    """A fraction in [0, 1) of the arrival window, per the curve."""
    if curve == "all_at_start" or days <= 0:
        return 0.0
    u = rng.random()
    if curve == "uniform":
        return u
    if curve == "front_loaded":
        return 1.0 - math.sqrt(1.0 - u)  # density 2(1 - x)
    return math.sqrt(u)  # back_loaded: density 2x


@functools.lru_cache(maxsize=4)
def _arrival_order(
    seed: int, size: int, curve: ArrivalCurve, days: float
) -> tuple[tuple[float, int], ...]:
    """(fraction of the arrival window, customer index) in arrival order; kept for the slices
    of one cohort a worker generates."""
    offsets: list[tuple[float, int]] = []
    for index in range(size):
        rng = random.Random(f"{seed}:arrival:{index}")
        offsets.append((_arrival_offset(curve, days, rng), index))
    offsets.sort()
    return tuple(offsets)


def choose_weighted(rng: random.Random, weights: Sequence[float]) -> int:
    """An index drawn by `weights` (uniform when they sum to nothing)."""
    total = sum(weights)
    if total <= 0:
        return rng.randrange(len(weights))
    point = rng.random() * total
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    return len(weights) - 1


def generate_customers(
    cohort: SyntheticCohort, start: int = 0, stop: int | None = None
) -> Iterator[SimCustomer]:
    """Generate `cohort`'s customers (positions `start` to `stop` of the arrival order): one
    RNG per customer, seeded by (seed, index), so a customer's draws do not depend on the
    others' (a larger cohort extends a smaller one's)."""
    window = timedelta(days=cohort.arrival_days)
    offsets = _arrival_order(cohort.seed, cohort.size, cohort.arrival, cohort.arrival_days)
    for fraction, index in offsets[start:stop]:
        rng = random.Random(f"{cohort.seed}:customer:{index}")
        arrives = cohort.start + window * fraction
        customer_id = f"{cohort.id_prefix}-{index:07d}"
        mix = cohort.facts
        tags = [share.tag for share in mix.tags if rng.random() < share.probability]
        kinds = [share.kind for share in mix.identities if rng.random() < share.probability]
        attributes: dict[str, Any] = {}
        for attribute in mix.attributes:
            if rng.random() < attribute.present:
                chosen = choose_weighted(rng, [value.weight for value in attribute.values])
                attributes[attribute.name] = attribute.values[chosen].value
        opted_out = [share.tag for share in mix.opted_out if rng.random() < share.probability]
        events: list[SimEvent] = []
        previous: datetime | None = arrives
        for model in cohort.events:
            base = arrives if model.after == "entry" else previous
            if base is None or rng.random() >= model.probability:
                previous = None
                continue
            at = base + model.delay.draw(rng)
            events.append(SimEvent(type=model.type, at=at, properties=_properties(model, rng)))
            previous = at
            last = at
            for _ in range(model.max_repeats):
                if rng.random() >= model.repeat_probability:
                    break
                last = last + (model.repeat_delay or model.delay).draw(rng)
                events.append(
                    SimEvent(type=model.type, at=last, properties=_properties(model, rng))
                )
        entry = None
        if cohort.entry_event_type is not None:
            entry = SimEvent(
                type=cohort.entry_event_type, at=arrives, properties=dict(cohort.entry_properties)
            )
        events.sort(key=lambda event: event.at)
        yield SimCustomer(
            id=customer_id,
            arrives_at=arrives,
            entry_event=entry,
            tags=tags,
            attributes=attributes,
            identity_kinds=kinds,
            events=events,
            opted_out=opted_out,
        )


def _properties(model: EventModel, rng: random.Random) -> dict[str, Any]:
    if not model.choices:
        return dict(model.properties)
    chosen = model.choices[choose_weighted(rng, [choice.weight for choice in model.choices])]
    return {**model.properties, **chosen.properties}


# -- options ----------------------------------------------------------------------------------


class ActionReaction(_Model):
    """An event the world answers a successful action with: e.g. WeCom's
    `wecom.mass_message.result` some hours after a `wecom.mass_message` task, `sent` for most.

    Matches actions by `channel`, `action` (any when None) and `node_id` (any when None); with
    `probability` the customer then emits `event_type` after `delay`, its properties `properties`
    merged with one weighted `choices` entry and, when `include_node_id`, `{"node_id": <node>}`.
    """

    channel: str = Field(min_length=1)
    action: str | None = None
    node_id: str | None = None
    event_type: str = Field(min_length=1)
    probability: float = Field(default=1.0, ge=0, le=1)
    delay: Delay = Field(default_factory=Delay)
    properties: dict[str, Any] = Field(default_factory=dict)
    choices: list[PropertyChoice] = Field(default_factory=list)
    include_node_id: bool = True


class ChannelSuccess(_Model):
    """The share of a channel's sends that succeed (the rest fail for good: `failed` edge)."""

    channel: str = Field(min_length=1)
    rate: float = Field(ge=0, le=1)


class SimulationOptions(_Model):
    """How to simulate: the window, the tenant's messaging policy, WeCom's allowance, how often
    actions succeed, and how the world reacts to them.

    The window is [`start`, `start` + `days`): customers arriving later are not enrolled, and
    whatever is still waiting at its end is counted as `active`. `start` defaults to the
    earliest arrival (at midnight UTC).
    """

    days: int = Field(default=90, ge=1, le=3660)
    start: AwareDatetime | None = None
    policy: MessagingPolicy = Field(default_factory=MessagingPolicy)
    """The tenant's frequency caps and quiet hours (`domain.messaging`)."""
    wecom_mass_message_limit: MassMessageLimit | None = "per_month"
    """WeCom's per-customer allowance of `wecom.mass_message` (`domain.channels.allowance_for`);
    None leaves it out."""
    wecom_allowance_override: int | None = Field(default=None, ge=0)
    """A lower allowance per period than WeCom's (as the corp's admin may set)."""
    action_success_rate: float = Field(default=1.0, ge=0, le=1)
    channel_success: list[ChannelSuccess] = Field(default_factory=list)
    """Per-channel success rates overriding `action_success_rate`."""
    reactions: list[ActionReaction] = Field(default_factory=list)
    seed: int = 0
    """Seeds the draws of action outcomes and reactions (with the customer id and node)."""
    tenant_id: str = "sim"
    journey_id: str = "journey"
    """With `tenant_id` and the customer id, the enrollment id (`domain.enrollments`), which
    decides experiment splits exactly as in the live engine."""
    workers: int = Field(default=1, ge=1, le=64)
    """Processes to spread customers over (results are merged deterministically)."""


ProgressCallback = Callable[[int, int], None]
"""Called as `progress(customers_done, customers_total)` while a simulation runs."""


# -- result -----------------------------------------------------------------------------------


class DayPoint(_Model):
    """A value on one simulated day (`day` 0 is the window's first day, `date` in UTC)."""

    day: int
    date: date
    value: int


class NodeFunnel(_Model):
    """One node's funnel: how many enrollments entered it (`entered` counts visits, `customers`
    distinct ones), left it, and are at it when the window ends; its occupancy at the end of
    each day, and entries per day."""

    node_id: str
    kind: str
    name: str | None = None
    entered: int = 0
    customers: int = 0
    exited: int = 0
    current: int = 0
    occupancy: list[DayPoint] = Field(default_factory=list)
    entries: list[DayPoint] = Field(default_factory=list)


class EdgeCount(_Model):
    """How many times `source --label--> target` was taken (`target` None: the end)."""

    source: str | None
    label: str
    target: str | None
    count: int


class SendCounts(_Model):
    """What became of the sends: the counters `ChannelDay` and `ActionVolumes` share."""

    attempted: int = 0
    sent: int = 0
    held_quiet_hours: int = 0
    held_cap: int = 0
    skipped_cap: int = 0
    skipped_consent: int = 0
    skipped_allowance: int = 0
    failed: int = 0


class ChannelDay(SendCounts):
    """One channel's message volumes on one day.

    - `attempted`: action runs that reached the channel's gates (retries of held ones too).
    - `sent`: sends that went out (succeeded).
    - `held_quiet_hours`: holds by quiet hours (the journey's or the tenant's).
    - `held_cap`: holds by a full frequency cap (`when_capped` = `wait`).
    - `skipped_cap`: skips by a full frequency cap (`when_capped` = `skip`).
    - `skipped_consent`: skips because the customer opted out of the channel.
    - `skipped_allowance`: WeCom refused the mass message (the customer's allowance is used up).
    - `failed`: sends that failed for good (the action success rate).
    """

    day: int
    date: date


class ChannelVolumes(_Model):
    """One channel's daily volumes (every day of the window) and their totals."""

    channel: str
    days: list[ChannelDay] = Field(default_factory=list)
    totals: ChannelDay


class ActionVolumes(SendCounts):
    """Totals of one action node (`ChannelDay`'s counters without the day)."""

    node_id: str
    channel: str
    action: str


class CapHit(_Model):
    """How often a cap stopped a send: `held` / `skipped` counts, and how many distinct
    customers it stopped. `cap_id` is the tenant cap's id, or `wecom.allowance` for WeCom's
    per-customer mass-message allowance."""

    cap_id: str
    held: int = 0
    skipped: int = 0
    customers: int = 0
    per_day: list[DayPoint] = Field(default_factory=list)
    """Holds and skips per day."""


class Conversions(_Model):
    """Conversions: count, rate over enrolled customers, time from entry to conversion."""

    count: int = 0
    rate: float = 0.0
    p50_hours: float | None = None
    p90_hours: float | None = None
    mean_hours: float | None = None
    per_day: list[DayPoint] = Field(default_factory=list)
    by_goal: list[GoalCount] = Field(default_factory=list)


class GoalCount(_Model):
    goal_id: str
    count: int


class EndedCount(_Model):
    """Enrollments by final status (`active`: still in the journey when the window ends)."""

    status: EngineStatus
    count: int


class ReasonCount(_Model):
    """Ended enrollments by status and reason (`completed`, an exit node's reason, ...)."""

    status: EngineStatus
    reason: str
    count: int


class SimulationResult(_Model):
    """What the journey would do to the cohort: funnel, occupancy, volumes, caps, conversions."""

    start: datetime
    days: int
    dates: list[date] = Field(default_factory=list)
    """The window's days, index = `day` of every point."""
    customers: int = 0
    """Customers given."""
    enrolled: int = 0
    """Customers who arrived inside the window and started the journey."""
    steps: int = 0
    """Engine steps (`Engine.advance` calls)."""
    events_delivered: int = 0
    nodes: list[NodeFunnel] = Field(default_factory=list)
    edges: list[EdgeCount] = Field(default_factory=list)
    channels: list[ChannelVolumes] = Field(default_factory=list)
    actions: list[ActionVolumes] = Field(default_factory=list)
    cap_hits: list[CapHit] = Field(default_factory=list)
    conversions: Conversions = Field(default_factory=Conversions)
    ended: list[EndedCount] = Field(default_factory=list)
    reasons: list[ReasonCount] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """Where the simulation's model is knowingly simpler than the live system."""


Conversions.model_rebuild()
