"""The journey definition: a graph of typed nodes joined by labelled edges.

A journey is data. `Node` is one discriminated union (on `kind`); `Edge` joins a node's outgoing
label to another node. Which labels each kind uses, and everything else the project's parts need
to know of a kind, is in the registry `domain.node_kinds` (docs/architecture.md shows its table).

Goal nodes have no incoming edges: their event reaches them from anywhere in the journey.
Validation (`domain.validation`) checks all of this and names every problem at once. The node
models live in `domain.nodes` and are re-exported here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.conditions import FactCondition, PropertyCondition
from domain.nodes import (
    MAX_UI_DATA_BYTES,
    NODE_KINDS,
    NODE_MODELS,
    ActionNode,
    BranchNode,
    BranchRule,
    EntryNode,
    EventTrigger,
    ExitNode,
    GoalNode,
    HookTrigger,
    LocalTime,
    ManualTrigger,
    Node,
    NodeId,
    NodeUi,
    ReentryPolicy,
    SplitNode,
    SplitVariant,
    Trigger,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilDateNode,
    WinnerRule,
)
from domain.wecom_events import CONTACT_DELETED_BY_CUSTOMER, CONTACT_DELETED_BY_STAFF

__all__ = [
    "MAX_UI_DATA_BYTES",
    "NODE_KINDS",
    "NODE_MODELS",
    "ActionNode",
    "BranchNode",
    "BranchRule",
    "Edge",
    "EntryNode",
    "EventTrigger",
    "ExitNode",
    "ExitTrigger",
    "GoalNode",
    "HookTrigger",
    "JourneyDefinition",
    "JourneySettings",
    "LocalTime",
    "ManualTrigger",
    "Node",
    "NodeId",
    "NodeUi",
    "QuietHours",
    "ReentryPolicy",
    "SplitNode",
    "SplitVariant",
    "Trigger",
    "UpdateProfileNode",
    "WaitForEventNode",
    "WaitNode",
    "WaitUntilDateNode",
    "WinnerRule",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Edge(_Model):
    """`source --label--> target`."""

    source: str
    target: str
    label: str = "next"


class ExitTrigger(_Model):
    """An event that ends the enrollment wherever it is (e.g. the customer deleted the staff)."""

    event_type: str = Field(min_length=1)
    where: list[PropertyCondition] = Field(default_factory=list)
    reason: str = Field(min_length=1, max_length=64)


class QuietHours(_Model):
    """Local hours in which no action runs; an action due inside them waits for `end`."""

    start: int = Field(default=21, ge=0, le=23)
    end: int = Field(default=9, ge=0, le=23)


CONTACT_DELETED_EXITS: tuple[ExitTrigger, ...] = (
    ExitTrigger(event_type=CONTACT_DELETED_BY_CUSTOMER, reason="deleted_by_customer"),
    ExitTrigger(event_type=CONTACT_DELETED_BY_STAFF, reason="deleted_by_staff"),
)
"""The exit triggers `JourneySettings.exit_on_contact_deleted` adds."""


class JourneySettings(_Model):
    """Per-journey settings."""

    timezone: str = "Asia/Shanghai"
    quiet_hours: QuietHours | None = None
    exit_triggers: list[ExitTrigger] = Field(default_factory=list)
    exit_on_contact_deleted: bool = Field(
        default=True,
        description=(
            "End the enrollment when the WeCom contact is deleted, by the customer "
            "(`wecom.contact_deleted_by_customer`, reason `deleted_by_customer`) or by the staff "
            "member (`wecom.contact_deleted_by_staff`, reason `deleted_by_staff`). A journey "
            "that names one of these events itself (an exit trigger, a goal or a wait_for_event "
            "on it) handles that event its own way instead."
        ),
    )
    exit_unless: list[FactCondition] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Conditions on the customer that must all keep holding: checked before "
        "every action and at every branch and date wait, the enrollment exits (reason "
        "`exit_unless_reason`) at the first step where one no longer holds.",
    )
    exit_unless_reason: str = Field(
        default="no_longer_eligible",
        min_length=1,
        max_length=64,
        exclude_if=lambda value: value == "no_longer_eligible",
        description="The exit reason recorded when `exit_unless` stops holding.",
    )


class JourneyDefinition(_Model):
    """A whole journey: nodes, edges and settings. Immutable once published as a version."""

    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    settings: JourneySettings = Field(default_factory=JourneySettings)

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError if none)."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def target(self, source: str, label: str) -> str | None:
        """Where `source`'s edge labelled `label` leads, or None."""
        for edge in self.edges:
            if edge.source == source and edge.label == label:
                return edge.target
        return None

    @property
    def entry(self) -> EntryNode:
        """The entry node (the definition must be valid)."""
        for node in self.nodes:
            if isinstance(node, EntryNode):
                return node
        raise KeyError("entry")

    @property
    def goals(self) -> list[GoalNode]:
        """Goal nodes, in definition order."""
        return [node for node in self.nodes if isinstance(node, GoalNode)]

    @property
    def exit_triggers(self) -> list[ExitTrigger]:
        """The exit triggers in force: the journey's own, then the defaults its settings add.

        `exit_on_contact_deleted` adds `CONTACT_DELETED_EXITS`, each only for an event type the
        journey does not name itself (in an exit trigger, a goal or a wait_for_event).
        """
        triggers = list(self.settings.exit_triggers)
        if self.settings.exit_on_contact_deleted:
            named = self._named_event_types()
            triggers.extend(t for t in CONTACT_DELETED_EXITS if t.event_type not in named)
        return triggers

    def _named_event_types(self) -> set[str]:
        types = {n.event_type for n in self.nodes if isinstance(n, WaitForEventNode | GoalNode)}
        types.update(trigger.event_type for trigger in self.settings.exit_triggers)
        return types

    def listened_event_types(self) -> set[str]:
        """Event types an enrollment of this journey reacts to (waits, goals, exit triggers,
        including those its settings add)."""
        types = self._named_event_types()
        types.update(trigger.event_type for trigger in self.exit_triggers)
        return types


JourneyStatus = Literal["draft", "published", "archived"]
