"""An enrollment's Temporal workflow history, fetched from the server and told as readable steps.

The MongoDB projection says where an enrollment is; the workflow history says how it got there,
event by event, as Temporal recorded it. Ops read it to answer "why": a timer that fired, a
channel activity that failed on its third attempt, the signal that woke a wait.

- `steps`: the step kinds (`StepKind`, each with its description), `HistoryStep`,
  `EnrollmentHistory`, `HistoryUnavailableError`.
- `renderer`: history events to steps (`render_steps`).
- `fetch`: one run fetched from Temporal (`enrollment_history`), and the Temporal UI link.

A long enrollment continues as new, so its history is a chain of runs: this reads one run (the
latest unless a run id is given) and names the run it continued from.
"""

from api.services.history.fetch import enrollment_history, temporal_ui_url
from api.services.history.renderer import render_steps
from api.services.history.steps import (
    EnrollmentHistory,
    HistoryStep,
    HistoryUnavailableError,
    StepKind,
    human_duration,
)

__all__ = [
    "EnrollmentHistory",
    "HistoryStep",
    "HistoryUnavailableError",
    "StepKind",
    "enrollment_history",
    "human_duration",
    "render_steps",
    "temporal_ui_url",
]
