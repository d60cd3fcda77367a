"""The state of one enrollment as the engine keeps it: compact, ids only.

`EngineState` travels in workflow inputs (continue-as-new) and activity inputs, so it is part of
recorded workflow histories: its field names are a wire format. Rename a field only with an alias
that keeps the old name on the wire, and check that tests/workflows/test_replay.py still passes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EngineStatus = Literal["active", "converted", "exited", "cancelled", "failed"]
WaitKind = Literal["timer", "quiet_hours", "event", "action", "facts"]


class Frozen(BaseModel):
    """Base of the engine's models: immutable, and strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Waiting(Frozen):
    """What the enrollment is waiting for at `node_id`."""

    kind: WaitKind
    node_id: str
    until: datetime | None = None
    event_type: str | None = None


class EngineState(Frozen):
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
    tracked (their keys keep the old form). "Run" means this everywhere in the project (the
    store's `enrollment_runs`, `run_started_at`), and nothing else in the engine."""

    @property
    def ended(self) -> bool:
        return self.status != "active"


def replace(state: EngineState, changes: dict[str, Any]) -> EngineState:
    """`state.model_copy(update=changes)`, without its generic copying: the engine's hot path.

    Like `model_copy`, it validates nothing (the engine only sets fields to values of their
    types) and marks the changed fields as set.
    """
    copied = object.__new__(EngineState)
    values = state.__dict__.copy()
    values.update(changes)
    object.__setattr__(copied, "__dict__", values)
    object.__setattr__(
        copied, "__pydantic_fields_set__", state.__pydantic_fields_set__ | changes.keys()
    )
    object.__setattr__(copied, "__pydantic_extra__", None)
    object.__setattr__(copied, "__pydantic_private__", None)
    return copied


def new_state(enrollment_id: str, run: str | None = None) -> EngineState:
    """The state of an enrollment (run) that has not started yet."""
    return EngineState(enrollment_id=enrollment_id, run=run)


def run_key(started_at: datetime) -> str:
    """The `EngineState.run` of a run that started at `started_at` (epoch milliseconds)."""
    return str(int(started_at.timestamp() * 1000))


def next_wake(state: EngineState) -> datetime | None:
    """When the enrollment next needs a `TimerFired`, if it waits on a clock."""
    return state.waiting.until if state.waiting is not None else None
