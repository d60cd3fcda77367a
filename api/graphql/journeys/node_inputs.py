"""Typed node inputs: one input per node kind, combined in `NodeInput` with `@oneOf`. The
descriptions of the kinds come from the node kind registry (`domain.node_kinds`)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.graphql.journeys.condition_inputs import (
    FactConditionInput,
    PropertyConditionInput,
    ReentryPolicyInput,
    TriggerInput,
    one_of_value,
    to_raw,
)
from domain.node_kinds import REGISTRY

DURATION = "An ISO 8601 duration, e.g. `PT30M` or `P2D`."
NODE_ID = "Unique within the journey; letters, digits and `_ . : -`, at most 64 characters."
NODE_NAME = "What designers call the node; shown in diagrams."


@strawberry.input(
    description="How a designer's canvas shows a node: stored and versioned with the definition, "
    "returned as given in `draft` and `definition`, never read by validation (beyond its shape), "
    "the engine or the diagram."
)
class NodeUiInput:
    x: float | None = strawberry.field(default=None, description="Canvas position.")
    y: float | None = strawberry.field(default=None, description="Canvas position.")
    color: str | None = strawberry.field(
        default=None, description="A colour, e.g. `#1677ff`; at most 32 characters."
    )
    notes: str | None = strawberry.field(
        default=None, description="Designers' notes; at most 4000 characters."
    )
    data: JSON | None = strawberry.field(
        default=None, description="Anything else the canvas keeps, a JSON object of at most 8 KiB."
    )


@strawberry.enum(description="What an action does when the tenant's frequency caps leave no room.")
class WhenCapped(Enum):
    SKIP = strawberry.enum_value(
        "skip", description="Take the `failed` edge (or move on), the reason recorded."
    )
    WAIT = strawberry.enum_value("wait", description="Wait until the cap frees, then send.")


UI = "Canvas metadata (position, colour, notes); never affects execution."


def _summary(kind: str) -> str:
    """The description of a kind's input type: what the kind does, from the registry."""
    return " ".join(REGISTRY[kind].summary.split())


# --- nodes ------------------------------------------------------------------------------------


@strawberry.input(description=_summary("entry"))
class EntryNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    trigger: TriggerInput | None = strawberry.field(
        default=None, description="What enrolls customers; manual when omitted."
    )
    reentry: ReentryPolicyInput | None = strawberry.field(
        default=None, description="Whether customers may enter again; `NEVER` when omitted."
    )


@strawberry.input(description="A wall-clock time in the journey's time zone.")
class LocalTimeInput:
    hour: int = strawberry.field(description="0 to 23.")
    minute: int = strawberry.field(default=0, description="0 to 59.")
    weekdays: list[int] = strawberry.field(
        default_factory=list,
        description="Allowed weekdays, 1 (Monday) to 7 (Sunday); empty means any day.",
    )


@strawberry.input(description=_summary("wait"))
class WaitNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    duration: str | None = strawberry.field(
        default=None, description=f"{DURATION} Zero when omitted; at most 400 days."
    )
    until: LocalTimeInput | None = strawberry.field(
        default=None, description="After the duration, wait on until this local time."
    )


@strawberry.input(description=_summary("wait_for_event"))
class WaitForEventNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    event_type: str = strawberry.field(description="The event type waited for.")
    where: list[PropertyConditionInput] = strawberry.field(
        default_factory=list, description="Conditions on the event's properties; all must hold."
    )
    timeout: str = strawberry.field(description=f"{DURATION} Positive, at most 400 days.")


@strawberry.input(description=_summary("wait_until_date"))
class WaitUntilDateNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    attribute: str = strawberry.field(
        description="The customer attribute holding the date (dotted path), e.g. `birthday`: "
        "an ISO 8601 date or date-time (a time without an offset is local to the journey)."
    )
    offset: str | None = strawberry.field(
        default=None,
        description=f"{DURATION} Negative is before the date (`-P3D`); zero when omitted.",
    )
    at: LocalTimeInput | None = strawberry.field(
        default=None,
        description="The local time of day to land on (hour and minute only); the start of the "
        "day for a date, the date-time's own time, when omitted.",
    )
    yearly: bool = strawberry.field(
        default=False, description="The date's next anniversary (a birthday), not the date."
    )


@strawberry.input(description="One path of an experiment; its id is the label of its edge.")
class SplitVariantInput:
    id: str = strawberry.field(description="The variant id, used as the label of its edge.")
    weight: int = strawberry.field(default=1, description="Relative share of entrants, 0 to 10000.")
    holdout: bool = strawberry.field(
        default=False,
        description="The control group (usually straight to an exit); compared with, never wins.",
    )


@strawberry.input(
    description="When an experiment picks its winner (the variant converting best): once "
    "`after` has passed since publishing, or once every competing variant has `minSample` "
    "enrollments, whichever comes first."
)
class WinnerRuleInput:
    after: str | None = strawberry.field(default=None, description=f"{DURATION} At most 400 days.")
    min_sample: int | None = strawberry.field(
        default=None, description="Enrollments each competing variant needs."
    )


@strawberry.input(description=_summary("split"))
class SplitNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    variants: list[SplitVariantInput] = strawberry.field(description="2 to 10 variants.")
    winner: WinnerRuleInput | None = strawberry.field(
        default=None, description="Pick a winner automatically; none: split for ever."
    )


@strawberry.input(description="One ordered rule of a branch; its id is its outgoing edge label.")
class BranchRuleInput:
    id: str = strawberry.field(description="The rule id, used as the label of its edge.")
    conditions: list[FactConditionInput] = strawberry.field(
        description="At least one; all must hold."
    )


@strawberry.input(description=_summary("branch"))
class BranchNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    rules: list[BranchRuleInput] = strawberry.field(description="At least one, tried in order.")


@strawberry.input(description=_summary("action"))
class ActionNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    channel: str = strawberry.field(description="A channel of `channels`, e.g. `sandbox`.")
    action: str = strawberry.field(description="One of the channel's actions, e.g. `send_message`.")
    params: JSON | None = strawberry.field(
        default=None,
        description="The action's parameters (a JSON object; none: `{}`); must satisfy its "
        "`paramsSchema`. Fields marked `x-template` there are Liquid templates rendered per "
        "customer: `{{ customer.attributes.<name> }}`, `{{ customer.identities.<kind> }}`, "
        "`{{ customer.id }}`, `{{ event.type }}`, `{{ event.properties.<name> }}`, filters "
        "(`| default: '朋友'`, `| upcase`...), `{% if %}`, `{% for %}`. A missing variable is an "
        "error for that customer (the action fails), so give a `default`; validation names "
        "syntax errors and unknown variables and filters.",
    )
    respect_quiet_hours: bool = strawberry.field(
        default=True,
        description="Hold the action until the journey's quiet hours end; turn off for replies "
        "that cannot wait (WeCom's welcome message is valid 20 seconds).",
    )
    when_capped: WhenCapped = strawberry.field(
        default=WhenCapped.SKIP,
        description="When the tenant's frequency caps leave no room: `skip` (its `failed` edge, "
        "the reason recorded) or `wait` until the cap frees.",
    )


@strawberry.input(description=_summary("update_profile"))
class UpdateProfileNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    add_tags: list[str] = strawberry.field(default_factory=list, description="Tags to add.")
    remove_tags: list[str] = strawberry.field(default_factory=list, description="Tags to remove.")
    set_attributes: JSON | None = strawberry.field(
        default=None, description="Attributes to set, as a JSON object (none: `{}`)."
    )
    unset_attributes: list[str] = strawberry.field(
        default_factory=list, description="Attribute names to remove."
    )


@strawberry.input(description=_summary("goal"))
class GoalNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    event_type: str = strawberry.field(description="The converting event type, e.g. `order.paid`.")
    where: list[PropertyConditionInput] = strawberry.field(
        default_factory=list, description="Conditions on the event's properties; all must hold."
    )


@strawberry.input(description=_summary("exit"))
class ExitNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    ui: NodeUiInput | None = strawberry.field(default=None, description=UI)
    reason: str = strawberry.field(
        default="completed", description="Why it ended, e.g. `lapsed`; at most 64 characters."
    )


def _kind(kind: str) -> str:
    """The description of `NodeInput.<kind>`, from the node kind registry."""
    entry = REGISTRY[kind]
    return f"{' '.join(entry.summary.split())} Outgoing: {entry.outgoing()}."


@strawberry.input(
    one_of=True, description="One node of a journey; set exactly one field, its kind."
)
class NodeInput:
    entry: EntryNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("entry")
    )
    wait: WaitNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("wait")
    )
    wait_for_event: WaitForEventNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("wait_for_event")
    )
    wait_until_date: WaitUntilDateNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("wait_until_date")
    )
    branch: BranchNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("branch")
    )
    split: SplitNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("split")
    )
    action: ActionNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("action")
    )
    update_profile: UpdateProfileNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("update_profile")
    )
    goal: GoalNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("goal")
    )
    exit: ExitNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("exit")
    )

    def to_raw(self) -> dict[str, Any]:
        kind, value = one_of_value(self)
        return {"kind": kind, **to_raw(value)}
