"""Routing decisions: which journeys an event enters, which enrollments it signals.

Pure: the caller (`ingestion.router`) reads the published journeys whose entry trigger names the
event's type and the customer's running enrollments, hands them here as data, and carries out the
answers (signal-with-start, signal). Routing an event of type T for customer C:

1. every published journey whose entry trigger matches (`entry`: the event type plus its `where`
   conditions, or the hook's `state` for hook entries) enrolls C, pinned to that version; a
   `concurrent` journey needs the entry key in the event (`NotEntered` says why not);
2. every running enrollment of C not reached by step 1 whose version listens for T (its waits,
   goals and exit triggers: `JourneyDefinition.listened_event_types`) receives the event
   (`signal_targets`). Exit triggers need nothing more here: the workflow ends the enrollment.

Enrollment ids: the entry key joins the id only for `concurrent` journeys (`id_entry_key`); a long
key is hashed into it (`domain.enrollments.entry_key_segment`). An enrollment still running under
the id an older release gave it (the key as it is, `legacy_enrollment_id`) keeps getting its key's
events.

Merged customers: an enrollment of a customer merged into C may stand in for the one the event
would start (`stand_in`; `ingestion.merges` tells the whole story).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from domain.conditions import all_match, lookup
from domain.enrollments import Enrollment, unhashed_enrollment_id
from domain.journey import EventTrigger, HookTrigger, JourneyDefinition

ReentryMode = Literal["never", "after_exit", "concurrent"]

MAX_TEMPORAL_ID_BYTES = 1000
"""Temporal's default workflow id limit: an older id longer than this was never started."""


@dataclass(frozen=True, slots=True)
class Enter:
    """Enroll the customer in this journey version."""

    journey_id: str
    version: int
    reentry: ReentryMode
    entry_key: str | None
    first_touch_hook: str | None
    """The hook to note as the customer's first touch (hook entries only)."""


@dataclass(frozen=True, slots=True)
class NotEntered:
    """The trigger matched, but the event cannot enroll; `note` says why (for the caller)."""

    note: str


def entry(
    journey_id: str, version: int, definition: JourneyDefinition, properties: Mapping[str, Any]
) -> Enter | NotEntered | None:
    """Whether an event with these properties enters this published version (None: its trigger
    does not match; the caller found the version by the event's type)."""
    node = definition.entry
    trigger = node.trigger
    hook: str | None = None
    if isinstance(trigger, EventTrigger):
        if not all_match(trigger.where, properties):
            return None
    elif isinstance(trigger, HookTrigger):
        if properties.get("state") != trigger.hook:
            return None
        hook = trigger.hook
    else:
        return None
    entry_key: str | None = None
    if node.reentry.mode == "concurrent":
        value = lookup(properties, node.reentry.entry_key or "")
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            return NotEntered(
                f"journey {journey_id!r} enrolls one per "
                f"{node.reentry.entry_key!r}, which this event lacks; not enrolled"
            )
        entry_key = str(value)
    return Enter(journey_id, version, node.reentry.mode, entry_key, hook)


def id_entry_key(reentry: ReentryMode, entry_key: str | None) -> str | None:
    """The entry key as the enrollment id carries it: only `concurrent` journeys have one."""
    return entry_key if reentry == "concurrent" else None


def legacy_enrollment_id(
    tenant_id: str, journey_id: str, customer_id: str, entry_key: str | None
) -> str | None:
    """The id an enrollment of this entry key may still run under, given before entry keys were
    hashed into ids; None when there is none (a token key, or an id Temporal would not take)."""
    legacy = unhashed_enrollment_id(tenant_id, journey_id, customer_id, entry_key)
    if legacy is None or len(legacy.encode("utf-8")) > MAX_TEMPORAL_ID_BYTES:
        return None
    return legacy


def versions_to_check(
    running: Iterable[Enrollment], reached: Collection[str]
) -> list[tuple[str, int]]:
    """The (journey, version) pairs whose listened event types `signal_targets` needs, in the
    order the enrollments come."""
    keys = [(e.journey_id, e.version) for e in running if e.id not in reached]
    return list(dict.fromkeys(keys))


def signal_targets(
    event_type: str,
    running: Sequence[Enrollment],
    reached: Collection[str],
    listened: Mapping[tuple[str, int], Collection[str]],
) -> list[Enrollment]:
    """The running enrollments to signal the event to: those not `reached` by entering (which
    delivered it already) whose version listens for `event_type`, in the given order."""
    return [
        e
        for e in running
        if e.id not in reached and event_type in listened[(e.journey_id, e.version)]
    ]


@dataclass(frozen=True, slots=True)
class StandIn:
    """An enrollment of a merged customer that takes the place of enrolling the survivor."""

    enrollment_id: str
    deliver: bool
    """True: give it the event (it is running); False: the entry is refused (`already_enrolled`)."""


def stand_in(
    own: Enrollment | None,
    merged: Iterable[Enrollment],
    reentry: ReentryMode,
    has_event: bool,
) -> StandIn | None:
    """Given the survivor's `own` enrollment in the journey (same entry key) and those of the
    customers merged into it, which one stands in; None: enroll the survivor as usual."""
    if own is not None and own.running:
        return None  # the usual signal-with-start gives the event to the customer's own
    ordered = sorted(merged, key=lambda e: (not e.running, e.started_at, e.id))
    if not ordered:
        return None
    first = ordered[0]
    if first.running:
        return StandIn(first.id, deliver=has_event)
    if reentry == "never":
        return StandIn(first.id, deliver=False)
    return None
