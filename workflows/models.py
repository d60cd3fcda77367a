"""Inputs, results, signals and queries of `JourneyWorkflow` (one model each; new fields get defaults)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from activities.models import EnrollmentRef
from domain.engine import EngineState, EventRef

SEEN_EVENT_IDS = 500


class JourneyInput(BaseModel):
    """Starts (or continues-as-new) one enrollment."""

    enrollment: EnrollmentRef
    entry_event_id: str | None = Field(
        default=None, description="With signal-with-start: the entry event arriving as a signal."
    )
    started_at: datetime | None = None
    state: EngineState | None = None
    seen_event_ids: list[str] = Field(default_factory=list)
    pending_events: list[EventRef] = Field(default_factory=list)
    paused: bool = False
    revision: int = Field(default=0, description="Projection writes so far (orders them).")
    continue_as_new_after: int | None = Field(
        default=None, description="Continue-as-new after this many steps even if not suggested."
    )
    migrated_from: int | None = Field(
        default=None, description="Set when this run starts on a new version after a migration."
    )
    migrate_to: str | None = Field(
        default=None, description="The node of the new version the migrated enrollment enters."
    )


class JourneyResult(BaseModel):
    status: str
    reason: str | None = None
    converted: bool = False
    transitions: int = 0


class EventSignal(BaseModel):
    event: EventRef


class MigrateInput(BaseModel):
    """Move a running enrollment to `version` of its journey: `mapping` says, per node of the
    version it is on, where it goes (a node id of `version`, or `drain` to stay, `cancel`)."""

    version: int = Field(ge=1)
    mapping: dict[str, str] = Field(default_factory=dict)


DRAIN, CANCEL = "drain", "cancel"


class CancelInput(BaseModel):
    reason: str = "cancelled"


class PauseInput(BaseModel):
    reason: str | None = None


class EnrollmentView(BaseModel):
    """What the `state` query answers: the live view of the enrollment."""

    enrollment: EnrollmentRef
    state: EngineState
    paused: bool
    pending_events: int
