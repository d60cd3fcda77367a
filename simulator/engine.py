"""`simulate`: run a cohort through a journey version under a virtual clock (pure).

Each customer is one enrollment driven exactly as `workflows/journey.py` drives the engine:

- `Start` (with the entry event) at the customer's arrival; then, in time order, each of their
  events as `EventReceived` and each due timer as `TimerFired` (an event due at the same instant
  as a timer goes first, as it would already sit in the workflow's inbox).
- Every stimulus's commands are carried out in order, profile updates first
  (`PROFILE_BEFORE_PROGRESS`); a command's follow-up stimulus (`ActionFinished`,
  `FactsLoaded`) is applied before anything else happens, as in `JourneyWorkflow._apply`.
- `RunAction` goes through what the channel activity does (`activities/channel.py`): the
  customer's consent (an opt-out skips: `failed`), the tenant's quiet hours and frequency caps
  (`domain.messaging`: hold → the action runs again when the hold ends, with the enrollment
  blocked meanwhile and its events waiting, as the workflow's held-action loop does; a full cap
  with `when_capped` = `skip` → `failed`), WeCom's per-customer mass-message allowance
  (`domain.channels.allowance_for`: used up → `failed`, the places taken given back), then
  the action's success rate. A success may make the world answer (`ActionReaction`).
- `LoadFacts` answers the customer's simulated tags, attributes and identity kinds, and the
  properties of the enrollment's last event; `UpdateProfile` changes those facts.

Customers do not interact (caps and allowances are per customer), so each is simulated to the
end of the window on its own, under its own clock; with `workers` > 1 they are spread over
processes in contiguous slices and the slices' counts summed, so the result does not depend on
the number of workers. Draws (action outcomes, reactions) come from an RNG seeded by
(`options.seed`, customer id): the same inputs give the same result.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.channels import allowance_for
from domain.conditions import CustomerFacts
from domain.engine import (
    ActionFinished,
    Complete,
    Engine,
    EngineState,
    EventReceived,
    EventRef,
    FactsLoaded,
    LoadFacts,
    MarkConverted,
    RunAction,
    Start,
    Stimulus,
    TimerFired,
    UpdateProfile,
    new_state,
    run_key,
)
from domain.enrollments import enrollment_id
from domain.journey import ActionNode, JourneyDefinition
from domain.messaging import Hold, period_of, quiet_hold, when_full
from simulator.models import (
    ActionReaction,
    ActionVolumes,
    CapHit,
    ChannelDay,
    ChannelVolumes,
    Conversions,
    DayPoint,
    EdgeCount,
    EndedCount,
    GoalCount,
    NodeFunnel,
    ProgressCallback,
    ReasonCount,
    SimCustomer,
    SimulationOptions,
    SimulationResult,
    SyntheticCohort,
    choose_weighted,
)

DAY = 86_400.0
WECOM_ALLOWANCE = "wecom.allowance"
"""The `CapHit.cap_id` of WeCom's per-customer mass-message allowance."""
MASS_MESSAGE = ("wecom", "mass_message")

# Counter slots of one channel-day (and of one action node), in `ChannelDay`'s field order.
ATTEMPTED, SENT, HELD_QUIET, HELD_CAP, SKIPPED_CAP, SKIPPED_CONSENT, SKIPPED_ALLOWANCE, FAILED = (
    range(8)
)
COUNTERS = (
    "attempted",
    "sent",
    "held_quiet_hours",
    "held_cap",
    "skipped_cap",
    "skipped_consent",
    "skipped_allowance",
    "failed",
)

NOTES = (
    "Actions take no time and channels answer at once; a failure (the success rate) is final, "
    "as after the live activity's last retry.",
    "Customers enter once: re-entry after exit is not simulated.",
    "Events change no customer facts (ingestion may set attributes from live events); only "
    "update_profile nodes do.",
    "WeCom mass-message tasks count against the allowance when issued, and are delivered only "
    "as far as the cohort's reactions say (staff confirmation is not modelled otherwise).",
)


# -- accumulated counts (mergeable: every field sums) -----------------------------------------


@dataclass
class _Totals:
    """What the customers of one slice did, as plain sums (merged by adding)."""

    days: int
    customers: int = 0
    enrolled: int = 0
    steps: int = 0
    events: int = 0
    entered: dict[str, int] = field(default_factory=dict)
    visitors: dict[str, int] = field(default_factory=dict)
    left: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    occupancy: dict[str, list[int]] = field(default_factory=dict)
    """Per node, a difference array over days (prefix sums give the end-of-day occupancy)."""
    entries: dict[str, list[int]] = field(default_factory=dict)
    edges: dict[tuple[str | None, str, str | None], int] = field(default_factory=dict)
    channel_days: dict[str, list[list[int]]] = field(default_factory=dict)
    actions: dict[str, list[int]] = field(default_factory=dict)
    cap_held: dict[str, int] = field(default_factory=dict)
    cap_skipped: dict[str, int] = field(default_factory=dict)
    cap_customers: dict[str, int] = field(default_factory=dict)
    cap_days: dict[str, list[int]] = field(default_factory=dict)
    convert_hours: list[float] = field(default_factory=list)
    convert_days: list[int] = field(default_factory=list)
    goals: dict[str, int] = field(default_factory=dict)
    ended: dict[str, int] = field(default_factory=dict)
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)

    def merge(self, other: _Totals) -> None:
        """Add `other`'s counts to these."""
        self.customers += other.customers
        self.enrolled += other.enrolled
        self.steps += other.steps
        self.events += other.events
        for mine, theirs in (
            (self.entered, other.entered),
            (self.visitors, other.visitors),
            (self.left, other.left),
            (self.current, other.current),
            (self.cap_held, other.cap_held),
            (self.cap_skipped, other.cap_skipped),
            (self.cap_customers, other.cap_customers),
            (self.goals, other.goals),
            (self.ended, other.ended),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        for key2, value2 in other.edges.items():
            self.edges[key2] = self.edges.get(key2, 0) + value2
        for key3, value3 in other.reasons.items():
            self.reasons[key3] = self.reasons.get(key3, 0) + value3
        for series_mine, series_theirs in (
            (self.occupancy, other.occupancy),
            (self.entries, other.entries),
            (self.actions, other.actions),
            (self.cap_days, other.cap_days),
        ):
            for key, values in series_theirs.items():
                target = series_mine.get(key)
                if target is None:
                    series_mine[key] = list(values)
                else:
                    for index, value in enumerate(values):
                        target[index] += value
        for channel, rows in other.channel_days.items():
            mine_rows = self.channel_days.get(channel)
            if mine_rows is None:
                self.channel_days[channel] = [list(row) for row in rows]
            else:
                for row_mine, row_theirs in zip(mine_rows, rows, strict=True):
                    for index, value in enumerate(row_theirs):
                        row_mine[index] += value
        self.convert_hours.extend(other.convert_hours)
        self.convert_days.extend(other.convert_days)


# -- one slice of customers -------------------------------------------------------------------


class _Simulation:
    """Simulates customers one by one into `totals` (one instance per process)."""

    def __init__(
        self,
        definition: JourneyDefinition,
        options: SimulationOptions,
        winners: Mapping[str, str] | None,
        start: datetime,
    ) -> None:
        self.definition = definition
        self.engine = Engine(definition, winners)
        self.options = options
        self.start = start
        self.start_ts = start.timestamp()
        self.end = start + timedelta(days=options.days)
        self.end_ts = self.end.timestamp()
        self.days = options.days
        self.totals = _Totals(days=options.days)
        self.success = {item.channel: item.rate for item in options.channel_success}
        self.caps_by_channel: dict[str, list[Any]] = {}
        self.action_nodes: dict[str, ActionNode] = {
            node.id: node for node in definition.nodes if isinstance(node, ActionNode)
        }
        self.reactions: dict[str, list[ActionReaction]] = {
            node_id: [
                reaction
                for reaction in options.reactions
                if reaction.channel == node.channel
                and reaction.action in (None, node.action)
                and reaction.node_id in (None, node_id)
            ]
            for node_id, node in self.action_nodes.items()
        }

    def day_of(self, ts: float) -> int:
        """The window's day index of timestamp `ts` (clamped into the window)."""
        return min(self.days - 1, max(0, int((ts - self.start_ts) // DAY)))

    def caps_for(self, channel: str) -> list[Any]:
        found = self.caps_by_channel.get(channel)
        if found is None:
            found = self.caps_by_channel[channel] = self.options.policy.caps_for(channel)
        return found

    def run(self, customer: SimCustomer) -> None:
        self.totals.customers += 1
        arrives = customer.arrives_at
        if not self.start <= arrives < self.end:
            return
        self.totals.enrolled += 1
        _Customer(self, customer).run()


class _Customer:
    """One customer's enrollment under its own virtual clock."""

    def __init__(self, sim: _Simulation, customer: SimCustomer) -> None:
        self.sim = sim
        self.customer = customer
        self.engine = sim.engine
        options = sim.options
        self.enrollment_id = enrollment_id(options.tenant_id, options.journey_id, customer.id)
        self.rng = random.Random(f"{options.seed}:{customer.id}")
        self.now = customer.arrives_at
        run = customer.run if customer.run is not None else run_key(customer.arrives_at)
        self.state: EngineState = new_state(self.enrollment_id, run=run)
        self.tags = set(customer.tags)
        self.attributes = dict(customer.attributes)
        self.identity_kinds = frozenset(customer.identity_kinds)
        self.opted_out = frozenset(customer.opted_out)
        self.properties: dict[str, dict[str, Any]] = {}
        """Event id → properties, for the facts' `last_event_properties`."""
        self.inbox: list[tuple[datetime, int, str, str, dict[str, Any]]] = []
        """Events to come: (at, sequence, id, type, properties), a heap."""
        self.sequence = 0
        arrives = customer.arrives_at
        for event in customer.events:
            if event.at >= arrives:
                self._schedule(event.at, event.type, event.properties)
        self.places: dict[tuple[str, str], int] = {}
        """(cap id, period) → sends that kept their place."""
        self.allowance: dict[str, int] = {}
        self.capped: set[str] = set()
        self.moves: list[tuple[float, str | None, str, str | None]] = []
        """The enrollment's transitions: (timestamp, from, label, to)."""
        self.blocked = False
        """A held action's retry fell past the window: the enrollment stays at the action."""

    def _schedule(self, at: datetime, type_: str, properties: dict[str, Any]) -> None:
        self.sequence += 1
        event_id = f"{self.customer.id}:e{self.sequence}"
        self.properties[event_id] = properties
        heapq.heappush(self.inbox, (at, self.sequence, event_id, type_, properties))

    # -- the main loop (JourneyWorkflow.run) --

    def run(self) -> None:
        sim = self.sim
        entry = self.customer.entry_event
        entry_ref = None
        if entry is not None:
            entry_ref = EventRef(
                id=f"{self.customer.id}:entry",
                type=entry.type,
                properties=entry.properties,
                occurred_at=entry.at,
            )
            self.properties[entry_ref.id] = entry_ref.properties
        self.apply(Start(event=entry_ref))
        end = sim.end
        while not self.state.ended and not self.blocked:
            waiting = self.state.waiting
            wake = waiting.until if waiting is not None else None
            if self.inbox and (wake is None or self.inbox[0][0] <= wake):
                at = self.inbox[0][0]
                if at >= end:
                    break
                _, _, event_id, type_, properties = heapq.heappop(self.inbox)
                if at > self.now:
                    self.now = at
                sim.totals.events += 1
                ref = EventRef(id=event_id, type=type_, properties=properties, occurred_at=at)
                self.apply(EventReceived(event=ref))
            elif wake is not None and waiting is not None:
                if wake >= end:
                    break
                if wake > self.now:
                    self.now = wake
                self.apply(TimerFired(node_id=waiting.node_id))
            else:
                break
        self.close()

    def apply(self, stimulus: Stimulus) -> None:
        """`JourneyWorkflow._apply`: the stimulus, then each follow-up, in order."""
        pending: list[Stimulus] = [stimulus]
        sim = self.sim
        advance = self.engine.advance
        moves = self.moves
        while pending:
            self.state, commands = advance(self.state, pending.pop(0), self.now)
            sim.totals.steps += 1
            follow_up: Stimulus | None = None
            ts = None
            for command in commands:
                kind = command.type
                if kind == "record_transition":
                    if ts is None:
                        ts = self.now.timestamp()
                    moves.append((ts, command.from_node, command.label, command.to_node))  # type: ignore[union-attr]
                elif kind == "update_profile":
                    self.update_profile(command)  # type: ignore[arg-type]
                elif kind == "run_action":
                    follow_up = self.run_action(command)  # type: ignore[arg-type]
                elif kind == "load_facts":
                    follow_up = self.load_facts(command)  # type: ignore[arg-type]
                elif kind == "mark_converted":
                    self.converted(command)  # type: ignore[arg-type]
                elif kind == "complete":
                    self.completed(command)  # type: ignore[arg-type]
            # At most one command per advance waits on an outcome (the engine then waits for
            # it), and it comes after the step's transitions and profile updates: the order of
            # `JourneyWorkflow._apply` (profile updates first, then the rest in order).
            if follow_up is not None:
                pending.append(follow_up)
            waiting = self.state.waiting
            if waiting is not None and waiting.kind == "quiet_hours":
                self.count(sim.action_nodes[waiting.node_id], HELD_QUIET)

    # -- commands --

    def update_profile(self, command: UpdateProfile) -> None:
        self.tags.difference_update(command.remove_tags)
        self.tags.update(command.add_tags)
        self.attributes.update(command.set_attributes)
        for name in command.unset_attributes:
            self.attributes.pop(name, None)

    def load_facts(self, command: LoadFacts) -> FactsLoaded:
        last = command.last_event_id
        facts = CustomerFacts(
            tags=frozenset(self.tags),
            attributes=dict(self.attributes),
            identity_kinds=self.identity_kinds,
            last_event_properties=dict(self.properties.get(last, {})) if last else {},
        )
        return FactsLoaded(node_id=command.node_id, facts=facts)

    def run_action(self, command: RunAction) -> ActionFinished | None:
        """The channel activity under the workflow's held-action loop."""
        sim = self.sim
        node = sim.action_nodes[command.node_id]
        channel = command.channel
        while True:
            self.count(node, ATTEMPTED)
            if channel in self.opted_out:
                self.count(node, SKIPPED_CONSENT)
                return self.finished(command, False, "consent_opted_out")
            hold = quiet_hold(sim.options.policy, command.respect_quiet_hours, self.now)
            if hold is not None:
                self.count(node, HELD_QUIET)
            else:
                outcome = self.admit(node, command)
                if not isinstance(outcome, Hold):
                    return outcome
                hold = outcome
            retry = self.now + timedelta(seconds=hold.seconds)
            if retry >= sim.end:
                self.blocked = True
                return None
            self.now = retry

    def admit(self, node: ActionNode, command: RunAction) -> ActionFinished | Hold:
        """Caps, then the connector (WeCom's allowance, the success rate)."""
        sim = self.sim
        policy = sim.options.policy
        taken: list[tuple[str, str]] = []
        for cap in sim.caps_for(command.channel):
            period, ends = period_of(cap, self.now, policy.timezone)
            key = (cap.id, period)
            if self.places.get(key, 0) < cap.limit:
                taken.append(key)
                continue
            hold = when_full(cap, command.when_capped, self.now, ends)
            self.cap_hit(cap.id, held=hold is not None)
            if hold is not None:
                self.count(node, HELD_CAP)
                return hold
            self.count(node, SKIPPED_CAP)
            return self.finished(command, False, "frequency_capped")
        allowance: str | None = None
        if (command.channel, command.action) == MASS_MESSAGE:
            limit = sim.options.wecom_mass_message_limit
            if limit is not None:
                allowance, allowed = allowance_for(limit, self.now)
                override = sim.options.wecom_allowance_override
                if override is not None:
                    allowed = min(allowed, override)
                if self.allowance.get(allowance, 0) >= allowed:
                    self.cap_hit(WECOM_ALLOWANCE, held=False)
                    self.count(node, SKIPPED_ALLOWANCE)
                    return self.finished(command, False, "wecom.allowance_exhausted")
        rate = sim.success.get(command.channel, sim.options.action_success_rate)
        if rate < 1.0 and self.rng.random() >= rate:
            self.count(node, FAILED)  # a failure for good gives back the places it took
            return self.finished(command, False, "failed")
        if allowance is not None:
            self.allowance[allowance] = self.allowance.get(allowance, 0) + 1
        for key in taken:
            self.places[key] = self.places.get(key, 0) + 1
        self.count(node, SENT)
        self.react(node)
        return self.finished(command, True, None)

    def finished(self, command: RunAction, succeeded: bool, error: str | None) -> ActionFinished:
        return ActionFinished(node_id=command.node_id, succeeded=succeeded, error=error)

    def react(self, node: ActionNode) -> None:
        for reaction in self.sim.reactions.get(node.id, ()):
            if reaction.probability < 1.0 and self.rng.random() >= reaction.probability:
                continue
            properties = dict(reaction.properties)
            if reaction.choices:
                chosen = choose_weighted(self.rng, [choice.weight for choice in reaction.choices])
                properties.update(reaction.choices[chosen].properties)
            if reaction.include_node_id:
                properties["node_id"] = node.id
            at = self.now + reaction.delay.draw(self.rng)
            self._schedule(at, reaction.event_type, properties)

    # -- counting --

    def count(self, node: ActionNode, slot: int) -> None:
        totals = self.sim.totals
        rows = totals.channel_days.get(node.channel)
        if rows is None:
            rows = totals.channel_days[node.channel] = [[0] * 8 for _ in range(self.sim.days)]
        rows[self.sim.day_of(self.now.timestamp())][slot] += 1
        per_node = totals.actions.get(node.id)
        if per_node is None:
            per_node = totals.actions[node.id] = [0] * 8
        per_node[slot] += 1

    def cap_hit(self, cap_id: str, *, held: bool) -> None:
        totals = self.sim.totals
        counts = totals.cap_held if held else totals.cap_skipped
        counts[cap_id] = counts.get(cap_id, 0) + 1
        per_day = totals.cap_days.get(cap_id)
        if per_day is None:
            per_day = totals.cap_days[cap_id] = [0] * self.sim.days
        per_day[self.sim.day_of(self.now.timestamp())] += 1
        if cap_id not in self.capped:
            self.capped.add(cap_id)
            totals.cap_customers[cap_id] = totals.cap_customers.get(cap_id, 0) + 1

    def tally_moves(self, active: bool) -> None:
        """Add the enrollment's transitions to the funnel, edges, entries and occupancy."""
        sim = self.sim
        totals = sim.totals
        edges, entered, left = totals.edges, totals.entered, totals.left
        visitors, entries_by_node, occupancy = totals.visitors, totals.entries, totals.occupancy
        start_ts, days = sim.start_ts, sim.days
        visited: set[str] = set()
        node: str | None = None
        since = 0.0
        for ts, source, label, target in self.moves:
            edge = (source, label, target)
            edges[edge] = edges.get(edge, 0) + 1
            if node is not None:
                left[node] = left.get(node, 0) + 1
                _occupy(occupancy, node, since, ts, start_ts, days)
            node, since = target, ts
            if target is None:
                continue
            entered[target] = entered.get(target, 0) + 1
            if target not in visited:
                visited.add(target)
                visitors[target] = visitors.get(target, 0) + 1
            entries = entries_by_node.get(target)
            if entries is None:
                entries = entries_by_node[target] = [0] * days
            entries[min(days - 1, max(0, int((ts - start_ts) // DAY)))] += 1
        if active and node is not None:
            totals.current[node] = totals.current.get(node, 0) + 1
            _occupy(occupancy, node, since, None, start_ts, days)

    def converted(self, command: MarkConverted) -> None:
        totals = self.sim.totals
        hours = (command.at - self.customer.arrives_at).total_seconds() / 3600
        totals.convert_hours.append(hours)
        totals.convert_days.append(self.sim.day_of(command.at.timestamp()))
        totals.goals[command.goal_id] = totals.goals.get(command.goal_id, 0) + 1

    def completed(self, command: Complete) -> None:
        totals = self.sim.totals
        totals.ended[command.status] = totals.ended.get(command.status, 0) + 1
        key = (command.status, command.reason)
        totals.reasons[key] = totals.reasons.get(key, 0) + 1

    def close(self) -> None:
        """At the window's end: an enrollment still active is at its node."""
        active = not self.state.ended
        if active:
            totals = self.sim.totals
            totals.ended["active"] = totals.ended.get("active", 0) + 1
        self.tally_moves(active)


def _occupy(
    occupancy: dict[str, list[int]],
    node_id: str,
    since: float,
    until: float | None,
    start_ts: float,
    days: int,
) -> None:
    """Count `node_id` as occupied at every day's end in [since, until) (a difference array:
    +1 on the first such day, -1 after the last)."""
    low = max(0, math.ceil((since - start_ts) / DAY) - 1)
    high = days if until is None else min(days, math.ceil((until - start_ts) / DAY) - 1)
    if high <= low:
        return
    diff = occupancy.get(node_id)
    if diff is None:
        diff = occupancy[node_id] = [0] * (days + 1)
    diff[low] += 1
    diff[high] -= 1


# -- the public entry point -------------------------------------------------------------------


def window_start(
    customers: Sequence[SimCustomer] | SyntheticCohort, options: SimulationOptions
) -> datetime:
    """The window's start: `options.start`, else the UTC midnight of the cohort's start (a
    synthetic cohort) or of the earliest arrival."""
    if options.start is not None:
        return options.start.astimezone(UTC)
    if isinstance(customers, SyntheticCohort):
        first = customers.start.astimezone(UTC)
    elif not customers:
        return datetime(2026, 1, 1, tzinfo=UTC)
    else:
        first = min(customer.arrives_at for customer in customers).astimezone(UTC)
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def simulate(
    definition: JourneyDefinition,
    customers: Iterable[SimCustomer] | SyntheticCohort,
    options: SimulationOptions | None = None,
    winners: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Run `customers` through `definition` (with decided experiment `winners`) as the live
    workflow would, under a virtual clock; return the funnel, volumes, cap hits, conversions.

    `customers` is a list of customers, or a `SyntheticCohort` (which worker processes then
    generate slice by slice themselves). `progress(done, total)` is called as customers finish.
    """
    options = options or SimulationOptions()
    cohort: Sequence[SimCustomer] | SyntheticCohort = (
        customers if isinstance(customers, SyntheticCohort) else list(customers)
    )
    total = cohort.size if isinstance(cohort, SyntheticCohort) else len(cohort)
    start = window_start(cohort, options)
    if options.workers > 1 and total >= 2 * options.workers:
        from simulator.pool import run_in_pool

        totals = run_in_pool(definition, cohort, options, winners, start, progress)
    else:
        sim = _Simulation(definition, options, winners, start)
        every = max(1, total // 100)
        members = cohort.customers() if isinstance(cohort, SyntheticCohort) else cohort
        for index, customer in enumerate(members, 1):
            sim.run(customer)
            if progress is not None and (index % every == 0 or index == total):
                progress(index, total)
        totals = sim.totals
    return summarize(definition, options, start, totals)


def simulate_slice(
    definition: JourneyDefinition,
    customers: Iterable[SimCustomer],
    options: SimulationOptions,
    winners: Mapping[str, str] | None,
    start: datetime,
) -> _Totals:
    """The counts of one slice of customers (what a worker process returns)."""
    sim = _Simulation(definition, options, winners, start)
    for customer in customers:
        sim.run(customer)
    return sim.totals


# -- totals → result --------------------------------------------------------------------------


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ordered sequence."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered)))
    return round(ordered[rank - 1], 3)


def summarize(
    definition: JourneyDefinition, options: SimulationOptions, start: datetime, totals: _Totals
) -> SimulationResult:
    """The chartable result of the accumulated counts."""
    days = options.days
    dates: list[date] = [(start + timedelta(days=d)).date() for d in range(days)]

    def points(values: Sequence[int]) -> list[DayPoint]:
        return [DayPoint(day=d, date=dates[d], value=values[d]) for d in range(days)]

    nodes = []
    for node in definition.nodes:
        diff = totals.occupancy.get(node.id, [0] * (days + 1))
        running, occupancy = 0, []
        for d in range(days):
            running += diff[d]
            occupancy.append(running)
        nodes.append(
            NodeFunnel(
                node_id=node.id,
                kind=node.kind,
                name=node.name,
                entered=totals.entered.get(node.id, 0),
                customers=totals.visitors.get(node.id, 0),
                exited=totals.left.get(node.id, 0),
                current=totals.current.get(node.id, 0),
                occupancy=points(occupancy),
                entries=points(totals.entries.get(node.id, [0] * days)),
            )
        )
    edges = [
        EdgeCount(source=source, label=label, target=target, count=count)
        for (source, label, target), count in sorted(
            totals.edges.items(), key=lambda item: (item[0][0] or "", item[0][1], item[0][2] or "")
        )
    ]
    channels = []
    for channel in sorted(totals.channel_days):
        rows = totals.channel_days[channel]
        sums = [sum(row[slot] for row in rows) for slot in range(8)]
        channels.append(
            ChannelVolumes(
                channel=channel,
                days=[
                    ChannelDay(day=d, date=dates[d], **dict(zip(COUNTERS, rows[d], strict=True)))
                    for d in range(days)
                ],
                totals=ChannelDay(day=0, date=dates[0], **dict(zip(COUNTERS, sums, strict=True))),
            )
        )
    actions = []
    for node in definition.nodes:
        if isinstance(node, ActionNode):
            counts = totals.actions.get(node.id, [0] * 8)
            actions.append(
                ActionVolumes(
                    node_id=node.id,
                    channel=node.channel,
                    action=node.action,
                    **dict(zip(COUNTERS, counts, strict=True)),
                )
            )
    caps = sorted(set(totals.cap_held) | set(totals.cap_skipped))
    cap_hits = [
        CapHit(
            cap_id=cap_id,
            held=totals.cap_held.get(cap_id, 0),
            skipped=totals.cap_skipped.get(cap_id, 0),
            customers=totals.cap_customers.get(cap_id, 0),
            per_day=points(totals.cap_days.get(cap_id, [0] * days)),
        )
        for cap_id in caps
    ]
    hours = sorted(totals.convert_hours)
    per_day = [0] * days
    for d in totals.convert_days:
        per_day[d] += 1
    conversions = Conversions(
        count=len(hours),
        rate=round(len(hours) / totals.enrolled, 6) if totals.enrolled else 0.0,
        p50_hours=_percentile(hours, 0.5),
        p90_hours=_percentile(hours, 0.9),
        mean_hours=round(sum(hours) / len(hours), 3) if hours else None,
        per_day=points(per_day),
        by_goal=[GoalCount(goal_id=g, count=c) for g, c in sorted(totals.goals.items())],
    )
    statuses = ("active", "converted", "exited", "cancelled", "failed")
    ended = [
        EndedCount(status=status, count=totals.ended[status])
        for status in statuses
        if totals.ended.get(status)
    ]
    reasons = [
        ReasonCount(status=status, reason=reason, count=count)
        for (status, reason), count in sorted(totals.reasons.items())
    ]
    return SimulationResult(
        start=start,
        days=days,
        dates=dates,
        customers=totals.customers,
        enrolled=totals.enrolled,
        steps=totals.steps,
        events_delivered=totals.events,
        nodes=nodes,
        edges=edges,
        channels=channels,
        actions=actions,
        cap_hits=cap_hits,
        conversions=conversions,
        ended=ended,
        reasons=reasons,
        notes=list(NOTES),
    )
