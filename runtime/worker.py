"""The worker: journey workflows and store activities on `journeys`, one worker per channel queue.

Each channel's queue gets `max_task_queue_activities_per_second` from `CHANNEL_RATE_LIMITS`, so
Temporal enforces the channel's API rate limit across every worker process. `WorkerTuning` bounds
what one process holds: its sticky cache of workflows (what its memory grows with, not how many
enrollments sleep) and its concurrent task slots.

Workflows run in Temporal's sandbox, in one of two modes (`WORKFLOW_SANDBOX`, `workflow_runner`):
- `strict`, the SDK's default: each run reloads the workflow module and proxies the standard
  library, so a non-deterministic call (the wall clock, randomness, I/O) fails the workflow task.
  The test suite runs strict throughout (`build_workers`' default; `tests/conftest.py` sets
  `WORKFLOW_SANDBOX=strict` for what starts through `serve`), so such a call cannot reach main.
- `passthrough` (the default of `omnijourney run`/`worker`): every import is passed through, the
  workflow module included, so nothing is reloaded or proxied per run: a third less worker CPU per
  enrollment (`python -m bench.enrollments`: 56 → 38 ms), and a non-deterministic call is not
  refused at run time. The code that runs is the code the strict tests ran, and recorded histories
  replay in tests (`tests/workflows/test_replay.py`); module-level state would be shared by all
  runs of a process, and the workflow code keeps none (its state lives on the workflow object).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from temporalio.client import Client
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.channel import ChannelActivities
from activities.journey import JourneyActivities
from activities.models import JOURNEYS_TASK_QUEUE, channel_task_queue
from connectors.registry import ConnectorRegistry
from runtime.segment_entry import SegmentActivities
from store.database import Store
from workflows.journey import JourneyWorkflow
from workflows.segment_entry import SegmentEntryWorkflow

WorkflowSandbox = Literal["strict", "passthrough"]


def workflow_runner(sandbox: WorkflowSandbox) -> WorkflowRunner:
    """The sandbox of `sandbox`'s mode (module docstring)."""
    if sandbox == "passthrough":
        return SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
        )
    return SandboxedWorkflowRunner()


@dataclass(frozen=True)
class WorkerTuning:
    """Per-process bounds of the workers (Temporal SDK options; see the README's configuration).

    `max_cached_workflows` is the sticky cache of the `journeys` worker: workflows kept in memory
    between tasks so the next task needs no replay. A sleeping enrollment stays in it only until
    newer ones push it out (least recently used first), so a process's memory is bounded by this
    number, not by how many enrollments sleep. `max_concurrent_workflow_tasks` and
    `max_concurrent_activities` are the task slots of each worker.
    """

    max_cached_workflows: int = 500
    max_concurrent_workflow_tasks: int = 100
    max_concurrent_activities: int = 100


def build_workers(
    client: Client,
    store: Store,
    registry: ConnectorRegistry,
    rate_limits: Mapping[str, float] | None = None,
    clock: Callable[[], datetime] | None = None,
    sandbox: WorkflowSandbox = "strict",
    tuning: WorkerTuning | None = None,
) -> list[Worker]:
    """The workers one process runs: `journeys` plus `channel.<name>` for every connector.
    `clock` is what the channel activities judge quiet hours and cap periods by (tests);
    `sandbox` the workflows' sandbox mode (module docstring); `tuning` bounds the process's cache
    and task slots (default: `WorkerTuning()`)."""
    tuning = tuning or WorkerTuning()
    journey_activities = JourneyActivities(store)
    channel_activities = (
        ChannelActivities(registry, store)
        if clock is None
        else ChannelActivities(registry, store, clock)
    )
    segments = SegmentActivities(store, client)
    workers = [
        Worker(
            client,
            task_queue=JOURNEYS_TASK_QUEUE,
            workflows=[JourneyWorkflow, SegmentEntryWorkflow],
            workflow_runner=workflow_runner(sandbox),
            activities=[
                journey_activities.load_version,
                journey_activities.record_progress,
                journey_activities.load_facts,
                journey_activities.update_profile,
                segments.enroll_segment,
            ],
            max_cached_workflows=tuning.max_cached_workflows,
            max_concurrent_workflow_tasks=tuning.max_concurrent_workflow_tasks,
            max_concurrent_activities=tuning.max_concurrent_activities,
        )
    ]
    for name in registry.names():
        activities: list[Callable[..., Any]] = [channel_activities.run_action]
        if name == "wecom":
            activities.append(channel_activities.cancel_pending_tasks)
        workers.append(
            Worker(
                client,
                task_queue=channel_task_queue(name),
                activities=activities,
                max_task_queue_activities_per_second=(rate_limits or {}).get(name),
                max_concurrent_activities=tuning.max_concurrent_activities,
            )
        )
    return workers
