"""The journey engine: a pure function from (state, stimulus, now) to (state, commands).

The workflow (`workflows/journey.py`) is a thin shell around `Engine.advance`: it turns each
command into a durable Temporal operation and feeds what happens back in as a stimulus.

    Start ─────────────▶ ┌──────────┐ ──▶ RecordTransition  (every node entered, numbered by seq)
    TimerFired(node) ──▶ │  advance │ ──▶ RunAction        (then waits for ActionFinished)
    EventReceived ─────▶ │          │ ──▶ LoadFacts        (branch: then waits for FactsLoaded)
    ActionFinished ────▶ │          │ ──▶ UpdateProfile    (fire and continue)
    FactsLoaded ───────▶ │          │ ──▶ WaitUntil / WaitForEvent (durable timer; event or deadline)
    Cancel ────────────▶ └──────────┘ ──▶ MarkConverted, Complete

One concept per module:
- `state`: `EngineState`, what the enrollment carries between stimuli (and across
  continue-as-new), and the helpers on it.
- `stimuli`: what goes in (`Stimulus`).
- `commands`: what comes out (`Command`).
- `interpreter`: `Engine.advance`, one handler per stimulus and one case per node kind
  (node kinds themselves are listed in `domain.node_kinds`).
- `moves`: entering nodes, following edges, converting and finishing, as transitions.
"""

from __future__ import annotations

from domain.engine.commands import (
    Command,
    Complete,
    LoadFacts,
    MarkConverted,
    RecordTransition,
    RunAction,
    UpdateProfile,
    WaitForEvent,
    WaitUntil,
)
from domain.engine.interpreter import Engine
from domain.engine.moves import MAX_STEPS, PATH_LENGTH
from domain.engine.state import (
    EngineState,
    EngineStatus,
    Waiting,
    WaitKind,
    new_state,
    next_wake,
    run_key,
)
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

__all__ = [
    "MAX_STEPS",
    "PATH_LENGTH",
    "ActionFinished",
    "Cancel",
    "Command",
    "Complete",
    "Engine",
    "EngineState",
    "EngineStatus",
    "EventReceived",
    "EventRef",
    "FactsLoaded",
    "LoadFacts",
    "MarkConverted",
    "Migrated",
    "RecordTransition",
    "RunAction",
    "Start",
    "Stimulus",
    "TimerFired",
    "UpdateProfile",
    "WaitForEvent",
    "WaitKind",
    "WaitUntil",
    "Waiting",
    "new_state",
    "next_wake",
    "run_key",
]
