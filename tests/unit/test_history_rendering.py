"""An enrollment's Temporal history told as readable steps, from recorded histories
(tests/workflows/histories) for the renderer's rarer paths; no server needed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from api.services.history import StepKind, human_duration, render_steps, temporal_ui_url
from workflows.converter import DATA_CONVERTER

UI = "http://127.0.0.1:8233"
HISTORIES = Path(__file__).parents[1] / "workflows" / "histories"


def step_of(steps: list[dict[str, Any]], kind: str, containing: str = "") -> dict[str, Any]:
    for step in steps:
        if step["kind"] == kind and containing in step["summary"]:
            return step
    raise AssertionError(f"no {kind} step with {containing!r} in {[s['summary'] for s in steps]}")


def _recorded_events(name: str) -> list[HistoryEvent]:
    data = json.loads((HISTORIES / name).read_text())
    return list(WorkflowHistory.from_json("recorded", data).events)


async def _rendered(events: list[HistoryEvent]) -> list[dict[str, Any]]:
    steps, _ = await render_steps(events, DATA_CONVERTER)
    return [
        {"kind": s.kind, "summary": s.summary, "attempt": s.attempt, "failure": s.failure}
        for s in steps
    ]


async def test_a_permanent_channel_failure_reads_as_a_failed_activitystep_of() -> None:
    steps = await _rendered(
        _recorded_events(
            "test_a_permanent_channel_failure_is_recorded_and_the_failed_edge_taken-0.json"
        )
    )
    failed = step_of(steps, "ACTIVITY_FAILED", "channel.sandbox.send_message (node send)")
    assert failed["attempt"] == 1
    assert failed["failure"] == "sandbox: simulated permanent failure"
    assert steps[-1]["summary"] == "workflow completed: exited (send_failed)"
    assert not [s for s in steps if s["kind"].startswith("WORKFLOW_TASK")]


async def test_a_continued_run_names_the_run_before_and_the_run_after() -> None:
    events = _recorded_events(
        "test_waiting_enrollment_shows_what_it_waits_for_then_takes_the_matched_branch-0.json"
    )
    started = HistoryEvent()
    started.CopyFrom(events[0])
    started.workflow_execution_started_event_attributes.continued_execution_run_id = "run-1"
    last = HistoryEvent(
        event_id=events[-1].event_id,
        event_time=events[-1].event_time,
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    )
    last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id = "run-3"

    steps, continued_from = await render_steps([started, *events[1:-1], last], DATA_CONVERTER)

    assert continued_from == "run-1"
    assert steps[0].summary.endswith(", continuing run run-1")
    assert (steps[-1].kind, steps[-1].summary) == ("CONTINUED_AS_NEW", "continued as new run run-3")


def test_durations_read_in_their_largest_units() -> None:
    assert human_duration(timedelta(days=3)) == "3d"
    assert human_duration(timedelta(hours=2, minutes=30)) == "2h30m"
    assert human_duration(timedelta(seconds=29.97)) == "29.97s"
    assert human_duration(timedelta(0)) == "0s"


def test_no_ui_link_without_a_configured_ui() -> None:
    assert temporal_ui_url(None, "default", "a:b:c") is None
    assert temporal_ui_url(UI + "/", "default", "a:b:c", "r1") == (
        f"{UI}/namespaces/default/workflows/a%3Ab%3Ac/r1/history"
    )


def test_every_step_kind_carries_a_description_for_the_api() -> None:
    assert [kind for kind in StepKind if not kind.description.strip()] == []
    assert StepKind("TIMER_FIRED") is StepKind.TIMER_FIRED
