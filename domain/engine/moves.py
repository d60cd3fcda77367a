"""Moving an enrollment along its journey: entering nodes, following edges, finishing.

`Moves` holds one `Engine.advance` call's new state and commands, and the moves every node kind
and stimulus uses: `enter` a node (recording the transition, then letting the subclass
`process` it), `follow` an edge by label (its end ends the enrollment), `convert` at a goal,
`finish` with a status. Each move is recorded as a `RecordTransition` with the next `seq`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.engine.commands import Command, Complete, MarkConverted, RecordTransition
from domain.engine.state import EngineState, EngineStatus, Waiting, WaitKind, replace
from domain.engine.stimuli import EventRef
from domain.journey import GoalNode, Node
from domain.node_kinds import NEXT

if TYPE_CHECKING:
    from domain.engine.interpreter import Engine

MAX_STEPS = 100
"""The most nodes one advance enters: a cycle without a wait fails the enrollment instead."""
PATH_LENGTH = 50
"""How many of the latest nodes `EngineState.path` keeps."""


class Moves:
    """The state and commands of one advance, and the moves that change them."""

    def __init__(self, engine: Engine, state: EngineState, now: datetime) -> None:
        self.engine = engine
        self.definition = engine.definition
        self.state = state
        self.now = now
        self.commands: list[Command] = []
        self.steps = 0

    def process(self, node: Node) -> None:
        """Do what `node` does once entered (the interpreter's one `case` per kind)."""
        raise NotImplementedError

    def convert(self, goal: GoalNode, event: EventRef) -> None:
        self._set(converted_at=self.now, goal_id=goal.id, last_event_id=event.id)
        self.commands.append(MarkConverted(goal_id=goal.id, event_id=event.id, at=self.now))
        target = self.engine.target(goal.id, NEXT)
        self.enter(goal.id, label=f"goal:{event.type}", source=self.state.current)
        if self.state.ended:
            return
        if target is None:
            self.finish("converted", "converted", label="converted")
        else:
            self.follow(goal.id, NEXT)

    def follow(self, source: str, label: str) -> None:
        target = self.engine.target(source, label)
        if target is None:
            self.finish("exited", "completed", label=label)
            return
        self.enter(target, label=label, source=source)

    def enter(
        self, node_id: str, *, label: str, source: str | None, count_visit: bool = True
    ) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.finish("failed", "loop_without_wait", label=label)
            return
        visits = dict(self.state.visits)
        if count_visit or node_id not in visits:
            visits[node_id] = visits.get(node_id, 0) + 1
        path = [*self.state.path, node_id][-PATH_LENGTH:]
        seq = self.state.seq + 1
        self._set(current=node_id, waiting=None, seq=seq, visits=visits, path=path)
        self.commands.append(
            RecordTransition(seq=seq, from_node=source, to_node=node_id, label=label, at=self.now)
        )
        self.process(self.engine.node(node_id))

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

    def _set_waiting(
        self, kind: WaitKind, node_id: str, until: datetime | None, event_type: str | None = None
    ) -> None:
        self._set(waiting=Waiting(kind=kind, node_id=node_id, until=until, event_type=event_type))

    def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, changes)
