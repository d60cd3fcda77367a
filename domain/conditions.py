"""Conditions on event properties and customer facts, shared by entries, waits, goals and branches.

A condition is data (so a journey stays a document) and is evaluated by pure functions here.
Property paths are dotted (`order.total`, `items.0.sku`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Operator = Literal[
    "eq", "ne", "in", "not_in", "exists", "not_exists", "gt", "gte", "lt", "lte", "contains"
]

_MISSING = object()


class PropertyCondition(BaseModel):
    """`path op value` on a mapping of properties (an event's, or a customer's attributes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(
        min_length=1, description="Dotted path into the properties, e.g. `order.total`."
    )
    op: Operator = "eq"
    value: Any = None


class TagCondition(BaseModel):
    """The customer has (or, with `present=False`, lacks) a tag."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["tag"] = "tag"
    tag: str = Field(min_length=1)
    present: bool = True


class AttributeCondition(BaseModel):
    """A condition on the customer's attributes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["attribute"] = "attribute"
    where: PropertyCondition


class IdentityCondition(BaseModel):
    """The customer has (or lacks) an identity of a kind (e.g. `wecom_external_userid`, `phone`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["identity"] = "identity"
    identity: str = Field(min_length=1)
    present: bool = True


class LastEventCondition(BaseModel):
    """A condition on the properties of the last event this enrollment matched."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["last_event"] = "last_event"
    where: PropertyCondition


FactCondition = Annotated[
    TagCondition | AttributeCondition | IdentityCondition | LastEventCondition,
    Field(discriminator="type"),
]


class CustomerFacts(BaseModel):
    """What a branch may look at: a snapshot loaded just before the branch is evaluated."""

    model_config = ConfigDict(frozen=True)

    tags: frozenset[str] = frozenset()
    attributes: dict[str, Any] = Field(default_factory=dict)
    identity_kinds: frozenset[str] = frozenset()
    last_event_properties: dict[str, Any] = Field(default_factory=dict)


def lookup(properties: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path, or a private sentinel when any segment is missing."""
    current: Any = properties
    for segment in path.split("."):
        if isinstance(current, Mapping) and segment in current:
            current = current[segment]
        elif isinstance(current, Sequence) and not isinstance(current, str) and _is_index(segment):
            index = int(segment)
            if index >= len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return current


def _is_index(segment: str) -> bool:
    # ASCII only: `"²".isdigit()` holds, yet `int("²")` raises.
    return segment.isascii() and segment.isdigit()


def _compare(op: Operator, actual: Any, expected: Any) -> bool:
    try:
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        if op == "lt":
            return bool(actual < expected)
        return bool(actual <= expected)
    except TypeError:
        return False


def property_matches(condition: PropertyCondition, properties: Mapping[str, Any]) -> bool:
    """Whether `properties` satisfy the condition; type mismatches are simply false."""
    actual = lookup(properties, condition.path)
    op = condition.op
    if op == "exists":
        return actual is not _MISSING
    if op == "not_exists":
        return actual is _MISSING
    if actual is _MISSING:
        return op in ("ne", "not_in")
    if op == "eq":
        return bool(actual == condition.value)
    if op == "ne":
        return bool(actual != condition.value)
    if op in ("in", "not_in"):
        options = condition.value if isinstance(condition.value, list | tuple | set) else ()
        return (actual in options) == (op == "in")
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(condition.value, str) and condition.value in actual
        if isinstance(actual, list | tuple | set):
            return condition.value in actual
        return False
    return _compare(op, actual, condition.value)


def all_match(conditions: Sequence[PropertyCondition], properties: Mapping[str, Any]) -> bool:
    """Every condition holds (an empty list always holds)."""
    return all(property_matches(condition, properties) for condition in conditions)


def fact_matches(condition: FactCondition, facts: CustomerFacts) -> bool:
    """Evaluate a branch condition against a customer snapshot."""
    if isinstance(condition, TagCondition):
        return (condition.tag in facts.tags) == condition.present
    if isinstance(condition, IdentityCondition):
        return (condition.identity in facts.identity_kinds) == condition.present
    if isinstance(condition, AttributeCondition):
        return property_matches(condition.where, facts.attributes)
    return property_matches(condition.where, facts.last_event_properties)
