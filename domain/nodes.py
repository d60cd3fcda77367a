"""The nodes of a journey: one model per kind in the discriminated union `Node`, and the parts
they are made of (entry triggers, re-entry, local times, branch rules, experiment variants, canvas
metadata). `domain.journey` joins them into a definition; `domain.node_kinds` says what else the
project knows of each kind.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.conditions import FactCondition, PropertyCondition
from domain.wecom_events import CONTACT_ADDED

NodeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- entry triggers ---------------------------------------------------------------------------


class EventTrigger(_Model):
    """Enroll when an event of this type (and matching every condition) is ingested."""

    type: Literal["event"] = "event"
    event_type: str = Field(min_length=1)
    where: list[PropertyCondition] = Field(default_factory=list)


class HookTrigger(_Model):
    """Enroll when a customer arrives through a hook (a channel code identified by its `state`)."""

    type: Literal["hook"] = "hook"
    hook: str = Field(min_length=1, max_length=30, description="The channel code's `state`.")
    event_type: str = Field(default=CONTACT_ADDED, min_length=1)


class ManualTrigger(_Model):
    """Enroll only through the API (`enrollCustomer`)."""

    type: Literal["manual"] = "manual"


Trigger = Annotated[EventTrigger | HookTrigger | ManualTrigger, Field(discriminator="type")]


class ReentryPolicy(_Model):
    """Whether a customer may enter the journey again.

    - `never`: one enrollment per customer, ever.
    - `after_exit`: a new enrollment once the previous one has ended.
    - `concurrent`: parallel enrollments, one per distinct value of the entry event's `entry_key`
      property (e.g. an order id).
    """

    mode: Literal["never", "after_exit", "concurrent"] = "never"
    entry_key: str | None = Field(
        default=None, description="Event property path; `concurrent` only."
    )


# --- nodes ------------------------------------------------------------------------------------

MAX_UI_DATA_BYTES = 8 * 1024
"""The largest `NodeUi.data` (as compact JSON)."""


class NodeUi(_Model):
    """How a designer's canvas shows a node: stored and versioned with the definition and returned
    as given, never read by the engine, routing, validation (beyond this shape) or the diagram."""

    x: float | None = Field(default=None, ge=-1e7, le=1e7, description="Canvas position.")
    y: float | None = Field(default=None, ge=-1e7, le=1e7, description="Canvas position.")
    color: str | None = Field(default=None, max_length=32, description="e.g. `#1677ff`.")
    notes: str | None = Field(default=None, max_length=4000, description="Designers' notes.")
    data: dict[str, Any] = Field(
        default_factory=dict, description="Anything else the canvas keeps (at most 8 KiB)."
    )

    @field_validator("data")
    @classmethod
    def _data_bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError("data must be a JSON object") from exc
        if size > MAX_UI_DATA_BYTES:
            raise ValueError(f"data is {size} bytes as JSON; at most {MAX_UI_DATA_BYTES}")
        return value


def _ui_field() -> Any:
    # Left out of the JSON form when unset, so definitions without canvas data read as before.
    return Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Canvas metadata (position, colour, notes); never affects execution.",
    )


class EntryNode(_Model):
    """Where every enrollment starts; a journey has exactly one."""

    kind: Literal["entry"] = "entry"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    trigger: Trigger = Field(default_factory=ManualTrigger)
    reentry: ReentryPolicy = Field(default_factory=ReentryPolicy)


class LocalTime(_Model):
    """A wall-clock time in the tenant's time zone, optionally restricted to weekdays (1=Mon..7=Sun)."""

    hour: int = Field(ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    weekdays: list[int] = Field(default_factory=list)

    @field_validator("weekdays")
    @classmethod
    def _weekdays_in_range(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 7 for day in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))


class WaitNode(_Model):
    """Wait for a duration, then (if `until` is set) until the next matching local time."""

    kind: Literal["wait"] = "wait"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    duration: timedelta = timedelta(0)
    until: LocalTime | None = None


class WaitForEventNode(_Model):
    """Wait for the customer's next matching event, at most `timeout`."""

    kind: Literal["wait_for_event"] = "wait_for_event"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    event_type: str = Field(min_length=1)
    where: list[PropertyCondition] = Field(default_factory=list)
    timeout: timedelta


class WaitUntilDateNode(_Model):
    """Wait until a date on the customer's profile (a birthday, a membership expiry), moved by
    `offset` and landing at the local time `at`; `missing` when the customer has none."""

    kind: Literal["wait_until_date"] = "wait_until_date"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    attribute: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="The customer attribute holding the date (a dotted path), e.g. `birthday` "
        "or `membership.expires_at`: an ISO 8601 date (`1990-05-12`) or date-time (a time "
        "without an offset is local to the journey).",
    )
    offset: timedelta = Field(
        default=timedelta(0),
        description="Moves the moment: negative is before the date (`-P3D`: three days before).",
    )
    at: LocalTime | None = Field(
        default=None,
        description="The local time of day to land on (no weekdays); the start of the day for a "
        "date, the date-time's own time for a date-time, when omitted.",
    )
    yearly: bool = Field(
        default=False,
        description="Wait for the date's next anniversary (a birthday) instead of the date itself.",
    )


class BranchRule(_Model):
    """One ordered branch: its `id` is the outgoing edge label; every condition must hold."""

    id: NodeId
    conditions: list[FactCondition] = Field(min_length=1)


class BranchNode(_Model):
    """Take the first rule whose conditions all hold, else the `else` edge."""

    kind: Literal["branch"] = "branch"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    rules: list[BranchRule] = Field(min_length=1)


class SplitVariant(_Model):
    """One path of an experiment; its `id` is the label of the edge it takes."""

    id: NodeId
    weight: int = Field(default=1, ge=0, le=10_000, description="Relative share of entrants.")
    holdout: bool = Field(
        default=False,
        description="The control group (usually straight to an exit, sent nothing); the other "
        "variants are compared with it, and it never wins.",
    )


class WinnerRule(_Model):
    """When an experiment picks its winner: once `after` has passed since the version was
    published, or once every competing variant has `min_sample` enrollments, whichever is first;
    the variant converting best wins."""

    after: timedelta | None = None
    min_sample: int | None = Field(default=None, ge=1, le=10_000_000)


class SplitNode(_Model):
    """Experiment: send each enrollment down one variant at random by weight (the same variant
    every time for the same enrollment run); with `winner`, entrants take the winning variant
    once it is decided."""

    kind: Literal["split"] = "split"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    variants: list[SplitVariant] = Field(min_length=2, max_length=10)
    winner: WinnerRule | None = None


class ActionNode(_Model):
    """Run a channel action; `params` are checked against the connector's own schema."""

    kind: Literal["action"] = "action"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    channel: str = Field(min_length=1)
    action: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    respect_quiet_hours: bool = Field(
        default=True,
        description="Hold the action until the journey's quiet hours end. Turn off for replies "
        "that cannot wait, such as WeCom's welcome message (valid 20 seconds).",
    )
    when_capped: Literal["skip", "wait"] = Field(
        default="skip",
        exclude_if=lambda value: value == "skip",
        description="When the tenant's frequency caps leave no room: `skip` (take the `failed` "
        "edge, or move on, with the reason recorded) or `wait` until the cap frees.",
    )


class UpdateProfileNode(_Model):
    """Add or remove tags and set or unset attributes on the customer."""

    kind: Literal["update_profile"] = "update_profile"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    set_attributes: dict[str, Any] = Field(default_factory=dict)
    unset_attributes: list[str] = Field(default_factory=list)


class GoalNode(_Model):
    """Conversion: the event marks the enrollment converted wherever it is (once per enrollment).
    No edge leads into a goal; with no `next` edge out of it the enrollment ends converted."""

    kind: Literal["goal"] = "goal"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    event_type: str = Field(min_length=1)
    where: list[PropertyCondition] = Field(default_factory=list)


class ExitNode(_Model):
    """End the enrollment with a reason."""

    kind: Literal["exit"] = "exit"
    id: NodeId
    name: str | None = None
    ui: NodeUi | None = _ui_field()
    reason: str = Field(default="completed", min_length=1, max_length=64)


Node = Annotated[
    EntryNode
    | WaitNode
    | WaitForEventNode
    | WaitUntilDateNode
    | BranchNode
    | SplitNode
    | ActionNode
    | UpdateProfileNode
    | GoalNode
    | ExitNode,
    Field(discriminator="kind"),
]

NODE_MODELS: tuple[type[BaseModel], ...] = get_args(get_args(Node)[0])
"""The models of the `Node` union, in its order."""

NODE_KINDS: tuple[str, ...] = tuple(model.model_fields["kind"].default for model in NODE_MODELS)
"""The `kind` of every node model, in the order of the `Node` union."""
