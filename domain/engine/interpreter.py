"""The interpreter: `Engine.advance` walks one journey version for one enrollment.

It is pure: `(state, stimulus, now) -> (state, commands)`, no I/O and no clock of its own. Each
stimulus has one handler and each node kind one `case` in `_Advance.process`; both dispatch with
`match` and end in `assert_never`, so a stimulus or node kind without a handler is a mypy error
(and, should one slip through at runtime, an exception instead of an enrollment that silently
stops moving).

Rules:
- Instant nodes (entry, update_profile, exit) pass straight through; the engine stops only at a
  wait, a wait_for_event, an action (until its result), or a branch or wait_until_date (until
  the customer's facts are loaded; a date wait then waits on a timer).
- `settings.exit_unless`: conditions on the customer checked where facts are loaded (branches,
  date waits) and, when set, before every action (which then loads facts first); the enrollment
  exits at the first of those steps where one no longer holds. An action held by quiet hours is
  not checked again when they end. A single `advance` never enters more than `MAX_STEPS` nodes, so a journey that
  slipped past validation with a cycle without a wait fails the enrollment instead of spinning.
- Exit triggers (`JourneyDefinition.exit_triggers`: the journey's own and those its settings add,
  such as leaving when the WeCom contact is deleted) and goals apply wherever the enrollment is.
  A goal converts once per enrollment; after that its event is handled like any other (e.g. by a
  wait_for_event in a repurchase loop).
- Stimuli that no longer apply (a timer or an action result for a node the enrollment has left,
  anything after the end) are ignored: the workflow may deliver them late, never wrongly.
- Actions due inside the journey's quiet hours wait for the quiet window to end first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import assert_never

from domain.clock import customer_date_target, next_local_time, quiet_until
from domain.conditions import CustomerFacts, all_match, fact_matches, lookup
from domain.deliveries import delivery_key
from domain.engine.commands import (
    Command,
    LoadFacts,
    RunAction,
    UpdateProfile,
    WaitForEvent,
    WaitUntil,
)
from domain.engine.moves import Moves
from domain.engine.state import EngineState
from domain.engine.stimuli import (
    ActionFinished,
    Cancel,
    EventReceived,
    EventRef,
    FactsLoaded,
    Migrated,
    Start,
    Stimulus,
    TimerFired,
)
from domain.experiments import assign_variant
from domain.journey import (
    ActionNode,
    BranchNode,
    EntryNode,
    ExitNode,
    ExitTrigger,
    GoalNode,
    JourneyDefinition,
    Node,
    SplitNode,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilDateNode,
)
from domain.node_kinds import ELSE, FAILED, MATCHED, MISSING, NEXT, PASSED, TIMED_OUT


class Engine:
    """Interprets one journey version. Stateless apart from the (immutable) definition."""

    def __init__(
        self, definition: JourneyDefinition, winners: Mapping[str, str] | None = None
    ) -> None:
        self.definition = definition
        self.winners: Mapping[str, str] = dict(winners or {})
        """Decided experiment winners, split node id → variant id (`domain.experiments`)."""
        self._nodes: dict[str, Node] = {node.id: node for node in definition.nodes}
        # The definition is immutable: what every step looks up is worked out once.
        self._targets: dict[tuple[str, str], str] = {}
        for edge in definition.edges:
            self._targets.setdefault((edge.source, edge.label), edge.target)
        self.exit_triggers: tuple[ExitTrigger, ...] = tuple(definition.exit_triggers)
        """The exit triggers in force (`JourneyDefinition.exit_triggers`)."""
        self.goals: tuple[GoalNode, ...] = tuple(definition.goals)

    def advance(
        self, state: EngineState, stimulus: Stimulus, now: datetime
    ) -> tuple[EngineState, list[Command]]:
        """Apply one stimulus at `now`; return the new state and the commands to carry out."""
        if state.ended:
            return state, []
        step = _Advance(self, state, now)
        match stimulus:
            case Start():
                step.start(stimulus.event)
            case Cancel():
                step.finish("cancelled", stimulus.reason, label="cancel")
            case EventReceived():
                step.event(stimulus.event)
            case TimerFired():
                step.timer(stimulus.node_id)
            case ActionFinished():
                step.action_finished(stimulus)
            case FactsLoaded():
                step.facts_loaded(stimulus)
            case Migrated():
                step.migrated(stimulus)
            case _:
                assert_never(stimulus)
        return step.state, step.commands

    @property
    def node_ids(self) -> frozenset[str]:
        """The ids of the version's nodes."""
        return frozenset(self._nodes)

    def node(self, node_id: str) -> Node:
        return self._nodes[node_id]

    def target(self, source: str, label: str) -> str | None:
        """Where `source`'s edge labelled `label` leads (`JourneyDefinition.target`)."""
        return self._targets.get((source, label))


class _Advance(Moves):
    """One `Engine.advance` call in progress: what each stimulus and each node kind does."""

    # -- stimuli --

    def start(self, event: EventRef | None) -> None:
        if self.state.started:
            if event is not None:
                self.event(event)
            return
        self._set(started=True, last_event_id=event.id if event else None)
        self.enter(self.definition.entry.id, label="start", source=None)

    def event(self, event: EventRef) -> None:
        if not self.state.started:
            return
        for trigger in self.engine.exit_triggers:
            if trigger.event_type == event.type and all_match(trigger.where, event.properties):
                self._set(last_event_id=event.id)
                self.finish("exited", trigger.reason, label=f"exit:{event.type}")
                return
        if self.state.converted_at is None:
            for goal in self.engine.goals:
                if goal.event_type == event.type and all_match(goal.where, event.properties):
                    self.convert(goal, event)
                    return
        waiting = self.state.waiting
        if waiting is None or waiting.kind != "event":
            return
        node = self.engine.node(waiting.node_id)
        assert isinstance(node, WaitForEventNode)
        if node.event_type == event.type and all_match(node.where, event.properties):
            self._set(last_event_id=event.id)
            self.follow(node.id, MATCHED)

    def timer(self, node_id: str) -> None:
        waiting = self.state.waiting
        if waiting is None or waiting.node_id != node_id:
            return
        if waiting.until is not None and self.now < waiting.until:
            return
        if waiting.kind == "timer":
            self.follow(node_id, NEXT)
        elif waiting.kind == "event":
            self.follow(node_id, TIMED_OUT)
        elif waiting.kind == "quiet_hours":
            node = self.engine.node(node_id)
            assert isinstance(node, ActionNode)
            self._start_action(node)

    def action_finished(self, result: ActionFinished) -> None:
        waiting = self.state.waiting
        if waiting is None or waiting.kind != "action" or waiting.node_id != result.node_id:
            return
        failed_edge = self.engine.target(result.node_id, FAILED)
        if not result.succeeded and failed_edge is not None:
            self.follow(result.node_id, FAILED)
        else:
            self.follow(result.node_id, NEXT)

    def facts_loaded(self, result: FactsLoaded) -> None:
        waiting = self.state.waiting
        if waiting is None or waiting.kind != "facts" or waiting.node_id != result.node_id:
            return
        settings = self.definition.settings
        if not all(fact_matches(condition, result.facts) for condition in settings.exit_unless):
            self.finish("exited", settings.exit_unless_reason, label="exit_unless")
            return
        node = self.engine.node(result.node_id)
        if isinstance(node, BranchNode):
            label = ELSE
            for rule in node.rules:
                if all(fact_matches(condition, result.facts) for condition in rule.conditions):
                    label = rule.id
                    break
            self.follow(node.id, label)
        elif isinstance(node, WaitUntilDateNode):
            self._wait_for_date(node, result.facts)
        elif isinstance(node, ActionNode):
            self._act_unless_quiet(node)

    def migrated(self, moved: Migrated) -> None:
        # Moving to the node it is at keeps that node's visit count, so an action node gets the
        # same delivery key and answers its recorded delivery instead of sending again.
        if not self.state.started or moved.node_id not in self.engine.node_ids:
            return
        self.enter(
            moved.node_id,
            label=f"migrated:v{moved.from_version}",
            source=self.state.current,
            count_visit=moved.node_id != self.state.current,
        )

    # -- one case per node kind --

    def process(self, node: Node) -> None:
        """Do what `node` does once entered: move on, or wait for something."""
        match node:
            case EntryNode():
                self.follow(node.id, NEXT)
            case WaitNode():
                self._wait_for_time(node)
            case WaitForEventNode():
                self._wait_for_event(node)
            case WaitUntilDateNode() | BranchNode():
                self._load_facts(node.id)
            case SplitNode():
                winner = self.engine.winners.get(node.id)
                if winner is None or winner not in {v.id for v in node.variants}:
                    winner = assign_variant(node, self.state.enrollment_id, self.state.run)
                self.follow(node.id, winner)
            case ActionNode():
                if self.definition.settings.exit_unless:
                    self._load_facts(node.id)  # then `facts_loaded` acts, if still eligible
                else:
                    self._act_unless_quiet(node)
            case UpdateProfileNode():
                self._update_profile(node)
            case GoalNode():
                pass  # entered by `convert`, which then follows the goal's edge
            case ExitNode():
                self.finish("exited", node.reason, label="exit")
            case _:
                assert_never(node)

    def _wait_for_time(self, node: WaitNode) -> None:
        until = self.now + node.duration
        if node.until is not None:
            until = next_local_time(until, node.until, self.definition.settings.timezone)
        if until <= self.now:
            self.follow(node.id, NEXT)
            return
        self._set_waiting("timer", node.id, until)
        self.commands.append(WaitUntil(node_id=node.id, until=until))

    def _load_facts(self, node_id: str) -> None:
        self._set_waiting("facts", node_id, None)
        self.commands.append(LoadFacts(node_id=node_id, last_event_id=self.state.last_event_id))

    def _wait_for_date(self, node: WaitUntilDateNode, facts: CustomerFacts) -> None:
        found = lookup(facts.attributes, node.attribute)
        until = customer_date_target(
            found,
            now=self.now,
            timezone=self.definition.settings.timezone,
            offset=node.offset,
            at=node.at,
            yearly=node.yearly,
        )
        if until is None:
            self.follow(node.id, MISSING)
        elif until <= self.now:
            passed = self.engine.target(node.id, PASSED) is not None
            self.follow(node.id, PASSED if passed else NEXT)
        else:
            self._set_waiting("timer", node.id, until)
            self.commands.append(WaitUntil(node_id=node.id, until=until))

    def _wait_for_event(self, node: WaitForEventNode) -> None:
        until = self.now + node.timeout
        self._set_waiting("event", node.id, until, event_type=node.event_type)
        self.commands.append(WaitForEvent(node_id=node.id, event_type=node.event_type, until=until))

    def _act_unless_quiet(self, node: ActionNode) -> None:
        settings = self.definition.settings
        quiet = settings.quiet_hours if node.respect_quiet_hours else None
        until = None if quiet is None else quiet_until(self.now, quiet, settings.timezone)
        if until is not None:
            self._set_waiting("quiet_hours", node.id, until)
            self.commands.append(WaitUntil(node_id=node.id, until=until))
            return
        self._start_action(node)

    def _start_action(self, node: ActionNode) -> None:
        visit = self.state.visits.get(node.id, 1)
        key = delivery_key(self.state.enrollment_id, node.id, visit, self.state.run)
        self._set_waiting("action", node.id, None)
        self.commands.append(
            RunAction(
                node_id=node.id,
                channel=node.channel,
                action=node.action,
                params=dict(node.params),
                idempotency_key=key,
                last_event_id=self.state.last_event_id,
                respect_quiet_hours=node.respect_quiet_hours,
                when_capped=node.when_capped,
            )
        )

    def _update_profile(self, node: UpdateProfileNode) -> None:
        self.commands.append(
            UpdateProfile(
                node_id=node.id,
                add_tags=list(node.add_tags),
                remove_tags=list(node.remove_tags),
                set_attributes=dict(node.set_attributes),
                unset_attributes=list(node.unset_attributes),
            )
        )
        self.follow(node.id, NEXT)
