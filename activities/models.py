"""Names, inputs and results of every activity: one input model and one result model each.

Workflows refer to activities by these names (and import only this module), so workflow code
never pulls in the store or connector implementations. New fields always get defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.engine import EngineState, RecordTransition, UpdateProfile
from domain.journey import JourneyDefinition

LOAD_VERSION = "journey.load_version"
RECORD_PROGRESS = "journey.record_progress"
LOAD_FACTS = "journey.load_facts"
UPDATE_PROFILE = "journey.update_profile"
RUN_ACTION = "channel.run_action"
CANCEL_PENDING_TASKS = "channel.wecom.cancel_pending_tasks"

JOURNEYS_TASK_QUEUE = "journeys"
MAX_ACTION_ATTEMPTS = 8


def channel_task_queue(channel: str) -> str:
    """Each channel has its own task queue so its rate limit is enforced by Temporal."""
    return f"channel.{channel}"


class EnrollmentRef(BaseModel):
    """The ids that name one enrollment."""

    tenant_id: str
    journey_id: str
    version: int
    customer_id: str
    enrollment_id: str
    entry_key: str | None = None
    """The readable entry key of a concurrent entry (the id may hold it hashed)."""


class LoadVersionInput(BaseModel):
    tenant_id: str
    journey_id: str
    version: int


class LoadVersionResult(BaseModel):
    definition: JourneyDefinition
    winners: dict[str, str] = Field(
        default_factory=dict,
        description="Decided experiment winners (split node id → variant id) at load time.",
    )


class RecordProgressInput(BaseModel):
    """Transitions to insert (insert-or-ignore) and the projection to move forward."""

    enrollment: EnrollmentRef
    state: EngineState
    paused: bool = False
    transitions: list[RecordTransition] = Field(default_factory=list)
    revision: int = Field(default=0, description="Increases with every write of one enrollment.")
    started_at: datetime
    at: datetime


class RecordProgressResult(BaseModel):
    transitions_inserted: int = 0


class LoadFactsInput(BaseModel):
    tenant_id: str
    customer_id: str
    last_event_id: str | None = None


class UpdateProfileInput(BaseModel):
    enrollment: EnrollmentRef
    update: UpdateProfile
    at: datetime


class UpdateProfileResult(BaseModel):
    applied: bool = True


class CancelPendingInput(BaseModel):
    """An ended enrollment whose unconfirmed WeCom mass-message tasks are to be cancelled."""

    enrollment: EnrollmentRef


class CancelPendingResult(BaseModel):
    cancelled: int = 0


HELD_ERROR = "HeldError"
"""The error type of an action held by the tenant's quiet hours or a full cap
(`activities.gates`); its details carry `delay_seconds`, after which the workflow runs it again."""


class RunActionInput(BaseModel):
    enrollment: EnrollmentRef
    node_id: str
    channel: str
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    trigger_event_id: str | None = Field(
        default=None, description="The last event the enrollment matched, passed to the channel."
    )
    respect_quiet_hours: bool = True
    when_capped: Literal["skip", "wait"] = "skip"


class RunActionResult(BaseModel):
    status: Literal["succeeded", "failed"]
    external_id: str | None = None
    error: str | None = None
    replayed: bool = False
