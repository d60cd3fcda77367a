"""The workflow sandbox's two modes (`runtime.worker`): `strict`, the tests' own, refuses a
workflow reading the wall clock; `passthrough` lets it run (why the tests use `strict`)."""

from __future__ import annotations

import inspect
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from runtime.worker import WorkflowSandbox, build_workers, workflow_runner
from tests.workflows.sandbox_probe import SandboxProbeWorkflow


async def _probe(env: WorkflowEnvironment, sandbox: WorkflowSandbox) -> str:
    queue = f"sandbox-{sandbox}-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[SandboxProbeWorkflow],
        workflow_runner=workflow_runner(sandbox),
        workflow_failure_exception_types=[Exception],
    ):
        return await env.client.execute_workflow(
            SandboxProbeWorkflow.run,
            id=f"probe-{queue}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=30),
        )


async def test_strict_refuses_a_workflow_reading_the_clock(
    temporal_env: WorkflowEnvironment,
) -> None:
    with pytest.raises(WorkflowFailureError) as raised:
        await _probe(temporal_env, "strict")
    assert "RestrictedWorkflowAccessError" in repr(raised.value.cause)


async def test_passthrough_lets_it_run(temporal_env: WorkflowEnvironment) -> None:
    assert await _probe(temporal_env, "passthrough")


def test_the_tests_build_strict_workers() -> None:
    assert inspect.signature(build_workers).parameters["sandbox"].default == "strict"
