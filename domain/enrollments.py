"""Enrollments (a customer's walk through one journey version) and their transitions.

The workflow is the source of truth; `Enrollment` is its projection in MongoDB, written by the
workflow after each step with an increasing `seq` so a late, older write never overwrites a newer
one. `Transition` is the audit trail: one record per step, numbered by `seq` within the
enrollment's run, written insert-or-ignore so replays and retries add nothing.

A run is one walk through the journey: where the journey lets a customer re-enter after exiting,
the same enrollment id is walked again by a new workflow run, which starts at `seq` 0 again. Runs
are told apart (and ordered) by `started_at`, which a run keeps through continue-as-new: a
projection is newer than another when it has a later `started_at`, or the same one and a higher
`seq` (`newer_than`). Earlier runs are kept as run records, `run_id` naming them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EnrollmentStatus = Literal["active", "paused", "converted", "exited", "cancelled", "failed"]
RUNNING_STATUSES: tuple[EnrollmentStatus, ...] = ("active", "paused")
MAX_PATH = 50


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


def enrollment_id(
    tenant_id: str, journey_id: str, customer_id: str, entry_key: str | None = None
) -> str:
    """The enrollment (and workflow) id: `{tenant}:{journey}:{customer}[:{entry key}]`, the
    entry key as `entry_key_segment` writes it."""
    base = f"{tenant_id}:{journey_id}:{customer_id}"
    return base if entry_key is None else f"{base}:{entry_key_segment(entry_key)}"


def unhashed_enrollment_id(
    tenant_id: str, journey_id: str, customer_id: str, entry_key: str | None
) -> str | None:
    """The id an enrollment of this entry key was given before keys were hashed, when it
    differs from `enrollment_id`'s (None otherwise): a running one keeps it."""
    if entry_key is None or _TOKEN_ENTRY_KEY.match(entry_key):
        return None
    return f"{tenant_id}:{journey_id}:{customer_id}:{entry_key}"


class WaitInfo(BaseModel):
    """What a waiting enrollment waits for: a timer, an event (with a deadline) or an action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["timer", "event", "action"]
    until: AwareDatetime | None = None
    event_type: str | None = None


class Enrollment(BaseModel):
    """The read-side projection of one enrollment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="The workflow id.")
    tenant_id: str
    journey_id: str
    version: int = Field(ge=1)
    customer_id: str
    entry_key: str | None = Field(
        default=None,
        description="The entry key of a journey allowing concurrent entries, as the event gave "
        "it (the id may hold it hashed).",
    )
    status: EnrollmentStatus = "active"
    current_node: str | None = None
    wait: WaitInfo | None = None
    path: list[str] = Field(
        default_factory=list, max_length=MAX_PATH, description="The last node ids visited."
    )
    converted_at: AwareDatetime | None = None
    goal_id: str | None = None
    exit_reason: str | None = None
    started_at: AwareDatetime
    updated_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    seq: int = Field(default=0, ge=0, description="Projection version; only a higher one wins.")

    @property
    def running(self) -> bool:
        """Still active or paused."""
        return self.status in RUNNING_STATUSES

    @property
    def order(self) -> tuple[datetime, int]:
        """The projection's place among all writes of its enrollment: run start, then `seq`."""
        return (self.started_at, self.seq)

    def newer_than(self, other: Enrollment) -> bool:
        """Whether this projection supersedes `other`: a later run, or the same run further on."""
        return self.order > other.order


def run_id(enrollment_id: str, started_at: datetime) -> str:
    """The id of one run of an enrollment: `{enrollment_id}@{started_at, UTC, milliseconds}`."""
    return f"{enrollment_id}@{started_at.astimezone(UTC).isoformat(timespec='milliseconds')}"


def append_path(path: list[str], node_id: str) -> list[str]:
    """`path` with `node_id` appended, keeping the last `MAX_PATH` entries."""
    return [*path, node_id][-MAX_PATH:]


class Transition(BaseModel):
    """One step of an enrollment: from one node to another along a labelled edge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    enrollment_id: str
    journey_id: str
    version: int = Field(ge=1)
    customer_id: str
    seq: int = Field(ge=0, description="Step number within the enrollment's run.")
    run_started_at: AwareDatetime | None = Field(
        default=None,
        description="The `started_at` of the run that took the step; None on records written "
        "before runs were told apart.",
    )
    from_node: str | None = None
    to_node: str | None = None
    label: str
    at: AwareDatetime
    reason: str | None = None
