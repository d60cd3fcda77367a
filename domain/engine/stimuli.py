"""What the workflow feeds into `Engine.advance`: one stimulus per thing that happened.

Stimuli travel in workflow signals and histories; their `type` values are a wire format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from domain.conditions import CustomerFacts
from domain.engine.state import Frozen


class EventRef(Frozen):
    """An event as the engine sees it (the full document lives in MongoDB)."""

    id: str
    type: str
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime


class Start(Frozen):
    """Begin the enrollment at the entry node (with the entry event, if one enrolled it)."""

    type: Literal["start"] = "start"
    event: EventRef | None = None


class TimerFired(Frozen):
    """The durable timer the enrollment set at `node_id` has fired."""

    type: Literal["timer_fired"] = "timer_fired"
    node_id: str


class EventReceived(Frozen):
    """A customer event arrived (exit triggers, goals and event waits look at it)."""

    type: Literal["event_received"] = "event_received"
    event: EventRef


class ActionFinished(Frozen):
    """The channel action of `node_id` is done, for good or (after its retries) for bad."""

    type: Literal["action_finished"] = "action_finished"
    node_id: str
    succeeded: bool
    error: str | None = None


class FactsLoaded(Frozen):
    """The customer facts the branch at `node_id` asked for."""

    type: Literal["facts_loaded"] = "facts_loaded"
    node_id: str
    facts: CustomerFacts


class Cancel(Frozen):
    """End the enrollment as cancelled, wherever it is."""

    type: Literal["cancel"] = "cancel"
    reason: str = "cancelled"


class Migrated(Frozen):
    """The enrollment was moved to another version of its journey: enter `node_id` of the new
    version (the engine interpreting it is already the new version's)."""

    type: Literal["migrated"] = "migrated"
    node_id: str
    from_version: int


Stimulus = Annotated[
    Start | TimerFired | EventReceived | ActionFinished | FactsLoaded | Cancel | Migrated,
    Field(discriminator="type"),
]
