"""What `Engine.advance` asks the workflow to do: one command per durable operation.

The workflow (`workflows/journey.py`) has one private method per command kind. Commands feed
activity inputs that recorded histories hold; their `type` values and fields are a wire format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from domain.engine.state import EngineStatus, Frozen


class RecordTransition(Frozen):
    """Write one step of the enrollment (a node entered, or the end), numbered by `seq`."""

    type: Literal["record_transition"] = "record_transition"
    seq: int
    from_node: str | None
    to_node: str | None
    label: str
    at: datetime
    reason: str | None = None


class RunAction(Frozen):
    """Carry out a channel action; the engine waits for `ActionFinished`."""

    type: Literal["run_action"] = "run_action"
    node_id: str
    channel: str
    action: str
    params: dict[str, Any]
    idempotency_key: str
    last_event_id: str | None = None
    respect_quiet_hours: bool = True
    """Whether the tenant's quiet hours hold it too (the journey's are the engine's)."""
    when_capped: Literal["skip", "wait"] = "skip"
    """What it does when the tenant's frequency caps leave no room (`domain.messaging`)."""


class LoadFacts(Frozen):
    """Load what is known of the customer for a branch; the engine waits for `FactsLoaded`."""

    type: Literal["load_facts"] = "load_facts"
    node_id: str
    last_event_id: str | None = None


class UpdateProfile(Frozen):
    """Change the customer's tags and attributes (fire and continue)."""

    type: Literal["update_profile"] = "update_profile"
    node_id: str
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    set_attributes: dict[str, Any] = Field(default_factory=dict)
    unset_attributes: list[str] = Field(default_factory=list)


class WaitUntil(Frozen):
    """Set a durable timer; it comes back as `TimerFired`."""

    type: Literal["wait_until"] = "wait_until"
    node_id: str
    until: datetime


class WaitForEvent(Frozen):
    """Wait for an event of `event_type`, at most until `until` (then `TimerFired`)."""

    type: Literal["wait_for_event"] = "wait_for_event"
    node_id: str
    event_type: str
    until: datetime


class MarkConverted(Frozen):
    """Record the enrollment's conversion by `goal_id`."""

    type: Literal["mark_converted"] = "mark_converted"
    goal_id: str
    event_id: str
    at: datetime


class Complete(Frozen):
    """The enrollment has ended with `status`; the workflow returns."""

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
