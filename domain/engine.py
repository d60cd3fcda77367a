"""The journey engine: a pure function from (state, stimulus, now) to (state, commands).

The workflow (`workflows/journey.py`) is a thin shell around `Engine.advance`: it turns each
command into a durable Temporal operation and feeds what happens back in as a stimulus.

    Start ─────────────▶ ┌──────────┐ ──▶ RecordTransition  (every node entered, numbered by seq)
    TimerFired(node) ──▶ │  advance │ ──▶ RunAction        (then waits for ActionFinished)
    EventReceived ─────▶ │          │ ──▶ LoadFacts        (branch: then waits for FactsLoaded)
    ActionFinished ────▶ │          │ ──▶ UpdateProfile    (fire and continue)
    FactsLoaded ───────▶ │          │ ──▶ WaitUntil / WaitForEvent (durable timer; event or deadline)
    Cancel ────────────▶ └──────────┘ ──▶ MarkConverted, Complete

Rules:
- Instant nodes (entry, update_profile, exit) run straight through; the engine stops only at a
  wait, a wait_for_event, an action (until its result) or a branch (until the customer's facts
  are loaded). A single `advance` never takes more than `MAX_STEPS` transitions, so a journey that
  slipped past validation with a cycle without a wait fails the enrollment instead of spinning.
- Exit triggers (`JourneyDefinition.exit_triggers`: the journey's own and those its settings add,
  such as leaving when the WeCom contact is deleted) and goals apply wherever the enrollment is. A goal converts once per enrollment;
  after that its event is handled like any other (e.g. by a wait_for_event in a repurchase loop).
- Stimuli that no longer apply (a timer or an action result for a node the enrollment has left,
  anything after the end) are ignored: the workflow may deliver them late, never wrongly.
- Actions due inside the journey's quiet hours wait for the quiet window to end first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.clock import in_quiet_hours, next_local_time, quiet_hours_end
from domain.conditions import CustomerFacts, all_match, fact_matches
from domain.journey import (
    ActionNode,
    BranchNode,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    Node,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)

MAX_STEPS = 100
PATH_LENGTH = 50

EngineStatus = Literal["active", "converted", "exited", "cancelled", "failed"]
WaitKind = Literal["timer", "quiet_hours", "event", "action", "facts"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- state --------------------------------------------------------------------------------------


class Waiting(_Frozen):
    """What the enrollment is waiting for at `node_id`."""

    kind: WaitKind
    node_id: str
    until: datetime | None = None
    event_type: str | None = None


class EngineState(_Frozen):
    """Compact, id-only state of one enrollment; carried across continue-as-new."""

    enrollment_id: str
    status: EngineStatus = "active"
    current: str | None = None
    waiting: Waiting | None = None
    seq: int = 0
    visits: dict[str, int] = Field(default_factory=dict)
    path: list[str] = Field(default_factory=list)
    converted_at: datetime | None = None
    goal_id: str | None = None
    exit_reason: str | None = None
    last_event_id: str | None = None
    started: bool = False
    run: str | None = None
    """Which run of the enrollment this is (its start in epoch milliseconds). A customer who
    re-enters after exiting gets a new run under the same enrollment id; the run keeps its
    delivery keys apart from the earlier run's. None for enrollments started before runs were
    tracked (their keys keep the old form)."""

    @property
    def ended(self) -> bool:
        return self.status != "active"


# --- stimuli ------------------------------------------------------------------------------------


class EventRef(_Frozen):
    """An event as the engine sees it (the full document lives in MongoDB)."""

    id: str
    type: str
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime


class Start(_Frozen):
    type: Literal["start"] = "start"
    event: EventRef | None = None


class TimerFired(_Frozen):
    type: Literal["timer_fired"] = "timer_fired"
    node_id: str


class EventReceived(_Frozen):
    type: Literal["event_received"] = "event_received"
    event: EventRef


class ActionFinished(_Frozen):
    type: Literal["action_finished"] = "action_finished"
    node_id: str
    succeeded: bool
    error: str | None = None


class FactsLoaded(_Frozen):
    type: Literal["facts_loaded"] = "facts_loaded"
    node_id: str
    facts: CustomerFacts


class Cancel(_Frozen):
    type: Literal["cancel"] = "cancel"
    reason: str = "cancelled"


Stimulus = Annotated[
    Start | TimerFired | EventReceived | ActionFinished | FactsLoaded | Cancel,
    Field(discriminator="type"),
]


# --- commands -----------------------------------------------------------------------------------


class RecordTransition(_Frozen):
    type: Literal["record_transition"] = "record_transition"
    seq: int
    from_node: str | None
    to_node: str | None
    label: str
    at: datetime
    reason: str | None = None


class RunAction(_Frozen):
    type: Literal["run_action"] = "run_action"
    node_id: str
    channel: str
    action: str
    params: dict[str, Any]
    idempotency_key: str
    last_event_id: str | None = None


class LoadFacts(_Frozen):
    type: Literal["load_facts"] = "load_facts"
    node_id: str
    last_event_id: str | None = None


class UpdateProfile(_Frozen):
    type: Literal["update_profile"] = "update_profile"
    node_id: str
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    set_attributes: dict[str, Any] = Field(default_factory=dict)
    unset_attributes: list[str] = Field(default_factory=list)


class WaitUntil(_Frozen):
    type: Literal["wait_until"] = "wait_until"
    node_id: str
    until: datetime


class WaitForEvent(_Frozen):
    type: Literal["wait_for_event"] = "wait_for_event"
    node_id: str
    event_type: str
    until: datetime


class MarkConverted(_Frozen):
    type: Literal["mark_converted"] = "mark_converted"
    goal_id: str
    event_id: str
    at: datetime


class Complete(_Frozen):
    type: Literal["complete"] = "complete"
    status: EngineStatus
    reason: str


Command = Annotated[
    RecordTransition
    | RunAction
    | LoadFacts
    | UpdateProfile
    | WaitUntil
    | WaitForEvent
    | MarkConverted
    | Complete,
    Field(discriminator="type"),
]


# --- the engine ---------------------------------------------------------------------------------


class Engine:
    """Interprets one journey version. Stateless apart from the (immutable) definition."""

    def __init__(self, definition: JourneyDefinition) -> None:
        self.definition = definition
        self._nodes: dict[str, Node] = {node.id: node for node in definition.nodes}

    def advance(
        self, state: EngineState, stimulus: Stimulus, now: datetime
    ) -> tuple[EngineState, list[Command]]:
        """Apply one stimulus at `now`; return the new state and the commands to carry out."""
        run = _Run(self, state, now)
        if state.ended:
            return state, []
        if isinstance(stimulus, Start):
            run.start(stimulus.event)
        elif isinstance(stimulus, Cancel):
            run.finish("cancelled", stimulus.reason, label="cancel")
        elif isinstance(stimulus, EventReceived):
            run.event(stimulus.event)
        elif isinstance(stimulus, TimerFired):
            run.timer(stimulus.node_id)
        elif isinstance(stimulus, ActionFinished):
            run.action_finished(stimulus)
        else:
            run.facts_loaded(stimulus)
        return run.state, run.commands

    def node(self, node_id: str) -> Node:
        return self._nodes[node_id]


class _Run:
    """One `advance` call: accumulates the new state and the commands."""

    def __init__(self, engine: Engine, state: EngineState, now: datetime) -> None:
        self.engine = engine
        self.definition = engine.definition
        self.state = state
        self.now = now
        self.commands: list[Command] = []
        self.steps = 0

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
        for trigger in self.definition.exit_triggers:
            if trigger.event_type == event.type and all_match(trigger.where, event.properties):
                self._set(last_event_id=event.id)
                self.finish("exited", trigger.reason, label=f"exit:{event.type}")
                return
        if self.state.converted_at is None:
            for goal in self.definition.goals:
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
            self.follow(node.id, "matched")

    def timer(self, node_id: str) -> None:
        waiting = self.state.waiting
        if waiting is None or waiting.node_id != node_id:
            return
        if waiting.until is not None and self.now < waiting.until:
            return
        if waiting.kind == "timer":
            self.follow(node_id, "next")
        elif waiting.kind == "event":
            self.follow(node_id, "timed_out")
        elif waiting.kind == "quiet_hours":
            node = self.engine.node(node_id)
            assert isinstance(node, ActionNode)
            self._run_action(node)

    def action_finished(self, result: ActionFinished) -> None:
        waiting = self.state.waiting
        if waiting is None or waiting.kind != "action" or waiting.node_id != result.node_id:
            return
        failed_edge = self.definition.target(result.node_id, "failed")
        if not result.succeeded and failed_edge is not None:
            self.follow(result.node_id, "failed")
        else:
            self.follow(result.node_id, "next")

    def facts_loaded(self, result: FactsLoaded) -> None:
        waiting = self.state.waiting
        if waiting is None or waiting.kind != "facts" or waiting.node_id != result.node_id:
            return
        node = self.engine.node(result.node_id)
        assert isinstance(node, BranchNode)
        label = "else"
        for rule in node.rules:
            if all(fact_matches(condition, result.facts) for condition in rule.conditions):
                label = rule.id
                break
        self.follow(node.id, label)

    # -- moving --

    def convert(self, goal: GoalNode, event: EventRef) -> None:
        self._set(converted_at=self.now, goal_id=goal.id, last_event_id=event.id)
        self.commands.append(MarkConverted(goal_id=goal.id, event_id=event.id, at=self.now))
        target = self.definition.target(goal.id, "next")
        self.enter(goal.id, label=f"goal:{event.type}", source=self.state.current)
        if self.state.ended:
            return
        if target is None:
            self.finish("converted", "converted", label="converted")
        else:
            self.follow(goal.id, "next")

    def follow(self, source: str, label: str) -> None:
        target = self.definition.target(source, label)
        if target is None:
            self.finish("exited", "completed", label=label)
            return
        self.enter(target, label=label, source=source)

    def enter(self, node_id: str, *, label: str, source: str | None) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.finish("failed", "loop_without_wait", label=label)
            return
        visits = dict(self.state.visits)
        visits[node_id] = visits.get(node_id, 0) + 1
        path = [*self.state.path, node_id][-PATH_LENGTH:]
        seq = self.state.seq + 1
        self._set(current=node_id, waiting=None, seq=seq, visits=visits, path=path)
        self.commands.append(
            RecordTransition(seq=seq, from_node=source, to_node=node_id, label=label, at=self.now)
        )
        self.run(self.engine.node(node_id))

    def finish(self, status: EngineStatus, reason: str, *, label: str) -> None:
        seq = self.state.seq + 1
        self.commands.append(
            RecordTransition(
                seq=seq,
                from_node=self.state.current,
                to_node=None,
                label=label,
                at=self.now,
                reason=reason,
            )
        )
        self._set(status=status, exit_reason=reason, waiting=None, seq=seq)
        self.commands.append(Complete(status=status, reason=reason))

    # -- one small function per node kind --

    def run(self, node: Node) -> None:
        if isinstance(node, EntryNode):
            self.follow(node.id, "next")
        elif isinstance(node, WaitNode):
            self._run_wait(node)
        elif isinstance(node, WaitForEventNode):
            until = self.now + node.timeout
            self._wait("event", node.id, until, event_type=node.event_type)
            self.commands.append(
                WaitForEvent(node_id=node.id, event_type=node.event_type, until=until)
            )
        elif isinstance(node, BranchNode):
            self._wait("facts", node.id, None)
            self.commands.append(LoadFacts(node_id=node.id, last_event_id=self.state.last_event_id))
        elif isinstance(node, ActionNode):
            self._run_action_or_hold(node)
        elif isinstance(node, UpdateProfileNode):
            self.commands.append(
                UpdateProfile(
                    node_id=node.id,
                    add_tags=list(node.add_tags),
                    remove_tags=list(node.remove_tags),
                    set_attributes=dict(node.set_attributes),
                    unset_attributes=list(node.unset_attributes),
                )
            )
            self.follow(node.id, "next")
        elif isinstance(node, GoalNode):
            pass  # entered by `convert`, which then follows the goal's edge
        elif isinstance(node, ExitNode):
            self.finish("exited", node.reason, label="exit")

    def _run_wait(self, node: WaitNode) -> None:
        until = self.now + node.duration
        if node.until is not None:
            until = next_local_time(until, node.until, self.definition.settings.timezone)
        if until <= self.now:
            self.follow(node.id, "next")
            return
        self._wait("timer", node.id, until)
        self.commands.append(WaitUntil(node_id=node.id, until=until))

    def _run_action_or_hold(self, node: ActionNode) -> None:
        settings = self.definition.settings
        quiet = settings.quiet_hours
        held = quiet is not None and node.respect_quiet_hours
        if held and quiet is not None and in_quiet_hours(self.now, quiet, settings.timezone):
            until = quiet_hours_end(self.now, quiet, settings.timezone)
            self._wait("quiet_hours", node.id, until)
            self.commands.append(WaitUntil(node_id=node.id, until=until))
            return
        self._run_action(node)

    def _run_action(self, node: ActionNode) -> None:
        visit = self.state.visits.get(node.id, 1)
        run = "" if self.state.run is None else f"{self.state.run}:"
        key = f"{self.state.enrollment_id}:{run}{node.id}:{visit}"
        self._wait("action", node.id, None)
        self.commands.append(
            RunAction(
                node_id=node.id,
                channel=node.channel,
                action=node.action,
                params=dict(node.params),
                idempotency_key=key,
                last_event_id=self.state.last_event_id,
            )
        )

    def _wait(
        self, kind: WaitKind, node_id: str, until: datetime | None, event_type: str | None = None
    ) -> None:
        self._set(waiting=Waiting(kind=kind, node_id=node_id, until=until, event_type=event_type))

    def _set(self, **changes: Any) -> None:
        self.state = self.state.model_copy(update=changes)


def new_state(enrollment_id: str, run: str | None = None) -> EngineState:
    """The state of an enrollment (run) that has not started yet."""
    return EngineState(enrollment_id=enrollment_id, run=run)


def run_key(started_at: datetime) -> str:
    """The `EngineState.run` of a run that started at `started_at` (epoch milliseconds)."""
    return str(int(started_at.timestamp() * 1000))


def next_wake(state: EngineState) -> datetime | None:
    """When the enrollment next needs a `TimerFired`, if it waits on a clock."""
    return state.waiting.until if state.waiting is not None else None


__all__ = [
    "MAX_STEPS",
    "ActionFinished",
    "Cancel",
    "Command",
    "Complete",
    "Engine",
    "EngineState",
    "EventReceived",
    "EventRef",
    "FactsLoaded",
    "LoadFacts",
    "MarkConverted",
    "RecordTransition",
    "RunAction",
    "Start",
    "Stimulus",
    "TimerFired",
    "UpdateProfile",
    "WaitForEvent",
    "WaitUntil",
    "Waiting",
    "new_state",
    "next_wake",
]
