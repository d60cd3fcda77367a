"""Typed journey definition inputs: one input per node kind, combined with `@oneOf`.

Each input converts to the JSON document `domain.journey.JourneyDefinition` parses (`to_raw`),
so a definition given as typed input and the same definition given as JSON are saved, validated
and reported identically (problems name the node id and the field path). Durations are ISO 8601
strings (`PT30M`, `P2D`), as in the JSON form. Action `params` stay JSON: each channel action has
its own schema (`channels { paramsSchema }`), checked by validation.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.unset import UnsetType

from domain.node_kinds import REGISTRY
from domain.wecom_events import CONTACT_ADDED

DURATION = "An ISO 8601 duration, e.g. `PT30M` or `P2D`."
NODE_ID = "Unique within the journey; letters, digits and `_ . : -`, at most 64 characters."
NODE_NAME = "What designers call the node; shown in diagrams."


def to_raw(value: Any) -> Any:
    """The JSON form of an input value: inputs become objects (unset and null fields left out,
    so the domain's defaults apply), enums their values; JSON scalars pass through."""
    convert = getattr(value, "to_raw", None)
    if callable(convert):
        return convert()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [to_raw(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        raw: dict[str, Any] = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if item is None or isinstance(item, UnsetType):
                continue
            raw[field.name] = to_raw(item)
        return raw
    return value


def one_of_value(value: Any) -> tuple[str, Any]:
    """The (field name, value) of the one field a `@oneOf` input has set."""
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if item is not None and not isinstance(item, UnsetType):
            return field.name, item
    raise ValueError(f"{type(value).__name__} has no field set")  # GraphQL enforces one


# --- conditions -------------------------------------------------------------------------------


@strawberry.enum(description="How a condition compares the value at its path.")
class ConditionOperator(Enum):
    EQ = strawberry.enum_value("eq", description="Equal to `value`.")
    NE = strawberry.enum_value("ne", description="Missing or not equal to `value`.")
    IN = strawberry.enum_value("in", description="One of the list `value`.")
    NOT_IN = strawberry.enum_value("not_in", description="Missing or none of the list `value`.")
    EXISTS = strawberry.enum_value("exists", description="Present, whatever its value.")
    NOT_EXISTS = strawberry.enum_value("not_exists", description="Absent.")
    GT = strawberry.enum_value("gt", description="Greater than `value`.")
    GTE = strawberry.enum_value("gte", description="Greater than or equal to `value`.")
    LT = strawberry.enum_value("lt", description="Less than `value`.")
    LTE = strawberry.enum_value("lte", description="Less than or equal to `value`.")
    CONTAINS = strawberry.enum_value(
        "contains", description="A string containing, or a list holding, `value`."
    )


@strawberry.input(description="`path op value` on event properties or customer attributes.")
class PropertyConditionInput:
    path: str = strawberry.field(description="Dotted path into the properties, e.g. `order.total`.")
    op: ConditionOperator = strawberry.field(
        default=ConditionOperator.EQ, description="The comparison."
    )
    value: JSON | None = strawberry.field(
        default=None,
        description="What to compare with (a list for `IN`/`NOT_IN`; unused by `EXISTS`).",
    )


@strawberry.input(description="The customer has (or, with `present: false`, lacks) a tag.")
class TagConditionInput:
    tag: str = strawberry.field(description="The tag, e.g. `stage:lead`.")
    present: bool = strawberry.field(default=True, description="False: the tag must be absent.")


@strawberry.input(description="The customer has (or lacks) an identity of a kind.")
class IdentityConditionInput:
    identity: str = strawberry.field(
        description="The identity kind, e.g. `wecom_external_userid` or `phone`."
    )
    present: bool = strawberry.field(
        default=True, description="False: the identity must be absent."
    )


@strawberry.input(one_of=True, description="One branch condition on what is known of the customer.")
class FactConditionInput:
    tag: TagConditionInput | None = strawberry.field(
        default=strawberry.UNSET, description="On the customer's tags."
    )
    attribute: PropertyConditionInput | None = strawberry.field(
        default=strawberry.UNSET, description="On the customer's attributes."
    )
    identity: IdentityConditionInput | None = strawberry.field(
        default=strawberry.UNSET, description="On the kinds of identity the customer has."
    )
    last_event: PropertyConditionInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="On the properties of the last event this enrollment matched.",
    )

    def to_raw(self) -> dict[str, Any]:
        kind, value = one_of_value(self)
        if kind in ("attribute", "last_event"):
            return {"type": kind, "where": to_raw(value)}
        return {"type": kind, **to_raw(value)}


# --- entry ------------------------------------------------------------------------------------


@strawberry.input(
    description="Enroll when an event of this type (matching every condition) arrives."
)
class EventTriggerInput:
    event_type: str = strawberry.field(description="The event type, e.g. `signup.completed`.")
    where: list[PropertyConditionInput] = strawberry.field(
        default_factory=list, description="Conditions on the event's properties; all must hold."
    )


@strawberry.input(
    description="Enroll when a customer arrives through a hook (a WeCom channel code)."
)
class HookTriggerInput:
    hook: str = strawberry.field(description="The channel code's `state`, at most 30 characters.")
    event_type: str = strawberry.field(
        default=CONTACT_ADDED, description="The event that carries the hook's `state`."
    )


@strawberry.input(one_of=True, description="What enrolls a customer; set exactly one field.")
class TriggerInput:
    event: EventTriggerInput | None = strawberry.field(
        default=strawberry.UNSET, description="An ingested event."
    )
    hook: HookTriggerInput | None = strawberry.field(
        default=strawberry.UNSET, description="A hook (channel code)."
    )
    manual: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only the API enrolls (`enrollCustomer`); the value is ignored, pass `true`.",
    )

    def to_raw(self) -> dict[str, Any]:
        kind, value = one_of_value(self)
        if kind == "manual":
            return {"type": "manual"}
        return {"type": kind, **to_raw(value)}


@strawberry.enum(description="Whether a customer may enter the journey again.")
class ReentryMode(Enum):
    NEVER = strawberry.enum_value("never", description="One enrollment per customer, ever.")
    AFTER_EXIT = strawberry.enum_value(
        "after_exit", description="Again once the previous enrollment has ended."
    )
    CONCURRENT = strawberry.enum_value(
        "concurrent", description="In parallel, one per distinct value of `entryKey`."
    )


@strawberry.input(description="Re-entry: `NEVER`, `AFTER_EXIT`, or `CONCURRENT` per entry key.")
class ReentryPolicyInput:
    mode: ReentryMode = strawberry.field(
        default=ReentryMode.NEVER,
        description="`NEVER`: once per customer; `AFTER_EXIT`: again once the previous "
        "enrollment ended; `CONCURRENT`: in parallel, one per distinct `entryKey` value.",
    )
    entry_key: str | None = strawberry.field(
        default=None,
        description="`CONCURRENT` only: the entry event's property path (e.g. `order_id`).",
    )


# --- nodes ------------------------------------------------------------------------------------


@strawberry.input(description="Where every enrollment starts; a journey has exactly one.")
class EntryNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
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


@strawberry.input(
    description="Wait a duration, then (with `until`) until the next such local time."
)
class WaitNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    duration: str | None = strawberry.field(
        default=None, description=f"{DURATION} Zero when omitted; at most 400 days."
    )
    until: LocalTimeInput | None = strawberry.field(
        default=None, description="After the duration, wait on until this local time."
    )


@strawberry.input(
    description="Wait for the customer's next matching event: `matched` or `timed_out`."
)
class WaitForEventNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    event_type: str = strawberry.field(description="The event type waited for.")
    where: list[PropertyConditionInput] = strawberry.field(
        default_factory=list, description="Conditions on the event's properties; all must hold."
    )
    timeout: str = strawberry.field(description=f"{DURATION} Positive, at most 400 days.")


@strawberry.input(description="One ordered rule of a branch; its id is its outgoing edge label.")
class BranchRuleInput:
    id: str = strawberry.field(description="The rule id, used as the label of its edge.")
    conditions: list[FactConditionInput] = strawberry.field(
        description="At least one; all must hold."
    )


@strawberry.input(
    description="Take the first rule whose conditions all hold, else the `else` edge."
)
class BranchNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    rules: list[BranchRuleInput] = strawberry.field(description="At least one, tried in order.")


@strawberry.input(description="Run a channel action: `next`, optionally `failed`.")
class ActionNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
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


@strawberry.input(description="Change the customer's tags and attributes.")
class UpdateProfileNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    add_tags: list[str] = strawberry.field(default_factory=list, description="Tags to add.")
    remove_tags: list[str] = strawberry.field(default_factory=list, description="Tags to remove.")
    set_attributes: JSON | None = strawberry.field(
        default=None, description="Attributes to set, as a JSON object (none: `{}`)."
    )
    unset_attributes: list[str] = strawberry.field(
        default_factory=list, description="Attribute names to remove."
    )


@strawberry.input(description="Conversion: the event converts the enrollment wherever it is.")
class GoalNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
    event_type: str = strawberry.field(description="The converting event type, e.g. `order.paid`.")
    where: list[PropertyConditionInput] = strawberry.field(
        default_factory=list, description="Conditions on the event's properties; all must hold."
    )


@strawberry.input(description="End the enrollment with a reason.")
class ExitNodeInput:
    id: str = strawberry.field(description=NODE_ID)
    name: str | None = strawberry.field(default=None, description=NODE_NAME)
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
    branch: BranchNodeInput | None = strawberry.field(
        default=strawberry.UNSET, description=_kind("branch")
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


# --- edges, settings, definition --------------------------------------------------------------


@strawberry.input(description="`source --label--> target`.")
class EdgeInput:
    source: str = strawberry.field(description="The id of the node the edge leaves.")
    target: str = strawberry.field(description="The id of the node the edge leads to.")
    label: str = strawberry.field(
        default="next",
        description="Which outcome of the source: `next`, `failed`, `matched`, `timed_out`, a "
        "branch rule id or `else`.",
    )


@strawberry.input(description="Local hours in which no action runs (21 to 9 by default).")
class QuietHoursInput:
    start: int = strawberry.field(default=21, description="Hour quiet time starts, 0 to 23.")
    end: int = strawberry.field(default=9, description="Hour quiet time ends, 0 to 23.")


@strawberry.input(description="An event that ends the enrollment wherever it is.")
class ExitTriggerInput:
    event_type: str = strawberry.field(
        description="The event type, e.g. `wecom.contact_deleted_by_customer`."
    )
    where: list[PropertyConditionInput] = strawberry.field(
        default_factory=list, description="Conditions on the event's properties; all must hold."
    )
    reason: str = strawberry.field(description="The exit reason recorded, e.g. `deleted`.")


@strawberry.input(description="Journey-wide settings.")
class JourneySettingsInput:
    timezone: str = strawberry.field(
        default="Asia/Shanghai", description="IANA time zone for local times and quiet hours."
    )
    quiet_hours: QuietHoursInput | None = strawberry.field(
        default=None, description="When no action may run; none when omitted."
    )
    exit_triggers: list[ExitTriggerInput] = strawberry.field(
        default_factory=list, description="Events that end the enrollment anywhere."
    )
    exit_on_contact_deleted: bool = strawberry.field(
        default=True,
        description="End the enrollment when the WeCom contact is deleted, by the customer "
        "(reason `deleted_by_customer`) or by the staff member (`deleted_by_staff`), unless the "
        "journey names that event itself (exit trigger, goal or wait_for_event).",
    )


@strawberry.input(
    description="A whole journey as typed input; the same document `Journey.draft` shows."
)
class JourneyDefinitionInput:
    nodes: list[NodeInput] = strawberry.field(
        default_factory=list, description="The nodes, in the order designers see them."
    )
    edges: list[EdgeInput] = strawberry.field(
        default_factory=list, description="The edges between the nodes."
    )
    settings: JourneySettingsInput | None = strawberry.field(
        default=None, description="Settings; defaults when omitted."
    )


@strawberry.input(
    one_of=True,
    description="A definition to work on: a journey's saved draft, typed input, or JSON.",
)
class JourneyDefinitionSource:
    journey_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The draft of this journey."
    )
    typed_definition: JourneyDefinitionInput | None = strawberry.field(
        default=strawberry.UNSET, description="A definition given as typed input."
    )
    definition: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="A definition given as a JSON document."
    )

    def raw_definition(self) -> Any:
        """The inline definition as JSON (typed input converted); None for `journeyId`."""
        kind, value = one_of_value(self)
        if kind == "journey_id":
            return None
        return value if kind == "definition" else to_raw(value)
