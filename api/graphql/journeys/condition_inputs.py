"""Typed inputs of conditions, entry triggers and re-entry, and the conversion every typed input
shares: `to_raw` (input → the JSON document the domain parses) and `one_of_value`."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.unset import UnsetType

from domain.wecom_events import CONTACT_ADDED


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
