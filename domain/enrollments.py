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

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.routing import entry_key_segment

EnrollmentStatus = Literal["active", "paused", "converted", "exited", "cancelled", "failed"]
RUNNING_STATUSES: tuple[EnrollmentStatus, ...] = ("active", "paused")
MAX_PATH = 50


def enrollment_id(
    tenant_id: str, journey_id: str, customer_id: str, entry_key: str | None = None
) -> str:
    """The enrollment (and workflow) id: `{tenant}:{journey}:{customer}[:{entry key}]`, the
    entry key as `domain.routing.entry_key_segment` writes it."""
    base = f"{tenant_id}:{journey_id}:{customer_id}"
    return base if entry_key is None else f"{base}:{entry_key_segment(entry_key)}"


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
