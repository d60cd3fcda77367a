"""Typed journey definition inputs: one input per node kind, combined with `@oneOf`.

Each input converts to the JSON document `domain.journey.JourneyDefinition` parses (`to_raw`),
so a definition given as typed input and the same definition given as JSON are saved, validated
and reported identically (problems name the node id and the field path). Durations are ISO 8601
strings (`PT30M`, `P2D`), as in the JSON form. Action `params` stay JSON: each channel action has
its own schema (`channels { paramsSchema }`), checked by validation.

Modules: `condition_inputs` (conditions, triggers, re-entry, `to_raw`), `node_inputs` (one input
per node kind, `NodeInput`); this one the edges, settings and the whole definition.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.graphql.journeys.condition_inputs import (
    ConditionOperator,
    EventTriggerInput,
    FactConditionInput,
    HookTriggerInput,
    IdentityConditionInput,
    PropertyConditionInput,
    ReentryMode,
    ReentryPolicyInput,
    TagConditionInput,
    TriggerInput,
    one_of_value,
    to_raw,
)
from api.graphql.journeys.node_inputs import (
    ActionNodeInput,
    BranchNodeInput,
    BranchRuleInput,
    EntryNodeInput,
    ExitNodeInput,
    GoalNodeInput,
    LocalTimeInput,
    NodeInput,
    NodeUiInput,
    SplitNodeInput,
    SplitVariantInput,
    UpdateProfileNodeInput,
    WaitForEventNodeInput,
    WaitNodeInput,
    WaitUntilDateNodeInput,
    WinnerRuleInput,
)

__all__ = [
    "ActionNodeInput",
    "BranchNodeInput",
    "BranchRuleInput",
    "ConditionOperator",
    "EdgeInput",
    "EntryNodeInput",
    "EventTriggerInput",
    "ExitNodeInput",
    "ExitTriggerInput",
    "FactConditionInput",
    "GoalNodeInput",
    "HookTriggerInput",
    "IdentityConditionInput",
    "JourneyDefinitionInput",
    "JourneyDefinitionSource",
    "JourneySettingsInput",
    "LocalTimeInput",
    "NodeInput",
    "NodeUiInput",
    "PropertyConditionInput",
    "QuietHoursInput",
    "ReentryMode",
    "ReentryPolicyInput",
    "SplitNodeInput",
    "SplitVariantInput",
    "TagConditionInput",
    "TriggerInput",
    "UpdateProfileNodeInput",
    "WaitForEventNodeInput",
    "WaitNodeInput",
    "WaitUntilDateNodeInput",
    "WinnerRuleInput",
    "one_of_value",
    "to_raw",
]


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
    exit_unless: list[FactConditionInput] = strawberry.field(
        default_factory=list,
        description="Conditions on the customer that must keep holding: checked before every "
        "action and at every branch and date wait; the enrollment exits at the first step "
        "where one no longer holds (Customer.io's exit conditions).",
    )
    exit_unless_reason: str | None = strawberry.field(
        default=None,
        description="The exit reason recorded then; `no_longer_eligible` when omitted.",
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
