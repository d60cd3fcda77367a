"""What a rendered workflow history is made of: step kinds (each written once, with the
description the API shows), steps, and one run's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.errors import DomainError


class StepKind(StrEnum):
    """What a step of a workflow history is; each kind carries its `description`."""

    description: str

    def __new__(cls, value: str, description: str) -> StepKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    WORKFLOW_STARTED = "WORKFLOW_STARTED", "The enrollment's workflow run started."
    WORKFLOW_COMPLETED = (
        "WORKFLOW_COMPLETED",
        "The run ended normally; the summary carries the final status and reason.",
    )
    WORKFLOW_FAILED = "WORKFLOW_FAILED", "The run ended with an error; the summary carries it."
    WORKFLOW_TERMINATED = (
        "WORKFLOW_TERMINATED",
        "The run was terminated from outside (e.g. with the Temporal CLI or UI).",
    )
    WORKFLOW_CANCELLED = (
        "WORKFLOW_CANCELLED",
        "The run ended by honouring a Temporal cancellation.",
    )
    WORKFLOW_TIMED_OUT = "WORKFLOW_TIMED_OUT", "The run hit its Temporal execution timeout."
    CONTINUED_AS_NEW = (
        "CONTINUED_AS_NEW",
        "The run handed over to a fresh run of the same enrollment (to keep the history "
        "short); read that run by its id for what followed.",
    )
    CANCEL_REQUESTED = "CANCEL_REQUESTED", "A Temporal cancellation of the run was requested."
    ACTIVITY_SCHEDULED = (
        "ACTIVITY_SCHEDULED",
        "An activity (a channel action, a store call) was scheduled; see `activity`.",
    )
    ACTIVITY_COMPLETED = (
        "ACTIVITY_COMPLETED",
        "An activity succeeded; `attempt` says on which try.",
    )
    ACTIVITY_FAILED = (
        "ACTIVITY_FAILED",
        "An activity failed for good (retries exhausted or a non-retryable error); the "
        "summary carries the error.",
    )
    ACTIVITY_TIMED_OUT = (
        "ACTIVITY_TIMED_OUT",
        "An activity ran out of time on its last attempt.",
    )
    ACTIVITY_CANCELLED = (
        "ACTIVITY_CANCELLED",
        "An activity was cancelled before it finished.",
    )
    TIMER_STARTED = (
        "TIMER_STARTED",
        "A timer was started (a wait node, an event-wait deadline, quiet hours); the summary "
        "gives its duration.",
    )
    TIMER_FIRED = "TIMER_FIRED", "A timer ran out."
    TIMER_CANCELLED = (
        "TIMER_CANCELLED",
        "A timer was dropped before it fired (e.g. the awaited event arrived first).",
    )
    SIGNAL_RECEIVED = (
        "SIGNAL_RECEIVED",
        "A signal reached the workflow: a customer event, pause, resume or cancel.",
    )
    STATE_RECORDED = (
        "STATE_RECORDED",
        "The workflow recorded its current node and status (search attributes).",
    )
    UPDATE = "UPDATE", "A Temporal update was accepted or completed."
    WORKFLOW_TASK_FAILED = (
        "WORKFLOW_TASK_FAILED",
        "The workflow code failed to make progress (e.g. a nondeterminism error after a code "
        "change); Temporal retries it, so the enrollment is stuck until fixed.",
    )


class HistoryUnavailableError(DomainError):
    """Temporal has no history to show (retention expired, never started, or unreachable)."""


@dataclass(frozen=True)
class HistoryStep:
    """One readable step of a workflow history."""

    event_id: int
    at: datetime
    kind: StepKind
    summary: str
    activity: str | None = None
    attempt: int | None = None
    failure: str | None = None


@dataclass(frozen=True)
class EnrollmentHistory:
    """One run of an enrollment's workflow, as steps (and, when asked, the raw events)."""

    workflow_id: str
    run_id: str
    continued_from_run_id: str | None
    steps: list[HistoryStep]
    raw_events: list[dict[str, Any]] | None = None
    ui_url: str | None = None
    event_count: int = 0
    namespace: str = "default"


def human_duration(duration: timedelta) -> str:
    """`3d`, `2h30m`, `45s`, `29.97s`: the largest units first, nothing for zero parts."""
    total = duration.total_seconds()
    if total < 60 and total != int(total):
        return f"{total:.2f}".rstrip("0").rstrip(".") + "s"
    seconds = round(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
