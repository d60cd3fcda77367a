"""Recorded journey histories replay on the current workflow code.

A change to `JourneyWorkflow` that would break enrollments already running in production fails
here (a non-determinism error). Such a change must go through `workflow.patched(...)`.
Histories are recorded by running the workflow tests with RECORD_HISTORIES set:

    RECORD_HISTORIES=tests/workflows/histories .venv/bin/pytest tests/workflows
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.converter import DATA_CONVERTER
from workflows.journey import JourneyWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 5, "record histories: see this module's docstring"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[JourneyWorkflow], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
