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

Enrollment ids (`domain.enrollments.enrollment_id`): the entry key joins the id only for
`concurrent` journeys (`id_entry_key`); a key that is not a short token is hashed into it
(`entry_key_segment`). An enrollment still running under the id an older release gave it (the key
as it is, `legacy_enrollment_id`) keeps getting its key's events.

Merged customers: an enrollment of a customer merged into C may stand in for the one the event
would start (`stand_in`; `ingestion.merges` tells the whole story).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from domain.conditions import all_match, lookup
from domain.journey import EventTrigger, HookTrigger, JourneyDefinition

if TYPE_CHECKING:  # domain.enrollments builds its ids with `entry_key_segment`: no import cycle
    from domain.enrollments import Enrollment

ReentryMode = Literal["never", "after_exit", "concurrent"]

MAX_TEMPORAL_ID_BYTES = 1000
"""Temporal's default workflow id limit: an older id longer than this was never started."""

_TOKEN_ENTRY_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HASHED_ENTRY_KEY_MARK = "~"
"""Starts the id segment of a hashed entry key; never in a key kept as it is."""


def entry_key_segment(entry_key: str) -> str:
    """How an entry key appears in an enrollment id.

    A short token (1 to 64 ASCII letters, digits, `_`, `.`, `-`: order numbers, coupon codes) as
    it is, so ids stay readable and enrollments started before keys were hashed keep theirs;
    any other key (long, or with other characters) as `~` and the first 32 hex digits of its
    SHA-256, so that however long the key, the id stays within Temporal's limit (1000 bytes by
    default). The readable key is kept in the enrollment's projection."""
    if _TOKEN_ENTRY_KEY.match(entry_key):
        return entry_key
    digest = hashlib.sha256(entry_key.encode("utf-8")).hexdigest()[:32]
    return f"{HASHED_ENTRY_KEY_MARK}{digest}"


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
    hashed into ids; None when there is none (no key, a token key, which was never hashed, or an
    id Temporal would not take)."""
    if entry_key is None or _TOKEN_ENTRY_KEY.match(entry_key):
        return None
    legacy = f"{tenant_id}:{journey_id}:{customer_id}:{entry_key}"
    return None if len(legacy.encode("utf-8")) > MAX_TEMPORAL_ID_BYTES else legacy


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
