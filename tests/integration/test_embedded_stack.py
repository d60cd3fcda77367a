"""The embedded servers start, answer, and keep their data across restarts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from pymongo import AsyncMongoClient
    from pymongo.asynchronous.database import AsyncDatabase

    from runtime.embedded import EmbeddedStack
    from runtime.processes import free_port
    from runtime.resources import connect_temporal
    from runtime.settings import Settings
    from workflows.search_attributes import TENANT


async def test_mongodb_fixture_stores_and_finds_a_document(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    await mongo_db.things.insert_one({"tenant_id": "t1", "name": "kettle"})
    found = await mongo_db.things.find_one({"tenant_id": "t1"})
    assert found is not None
    assert found["name"] == "kettle"


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn
class GreetWorkflow:
    """A trivial workflow to show a server, a worker and the data converter work together."""

    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=30)
        )


async def _greet_on(env: WorkflowEnvironment) -> str:
    task_queue = f"smoke-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=[GreetWorkflow], activities=[greet]
    ):
        return await env.client.execute_workflow(
            GreetWorkflow.run, "mei", id=f"smoke-{uuid.uuid4().hex}", task_queue=task_queue
        )


async def test_dev_server_runs_a_workflow_with_an_activity(
    temporal_env: WorkflowEnvironment,
) -> None:
    assert await _greet_on(temporal_env) == "hello mei"


async def test_time_skipping_server_runs_a_workflow_with_an_activity(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    assert await _greet_on(time_skipping_env) == "hello mei"


@workflow.defn
class AwaitFinishWorkflow:
    """Waits for one signal, so it is still running when the servers stop."""

    def __init__(self) -> None:
        self._finished = False

    @workflow.signal
    def finish(self) -> None:
        self._finished = True

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._finished)
        return "finished"


def _embedded_settings(data_dir: Path) -> Settings:
    return Settings(
        mongodb_uri=None,
        temporal_address=None,
        temporal_namespace="omnijourney-test",
        data_dir=data_dir,
        embedded_mongodb_port=free_port(),
        embedded_temporal_port=free_port(),
        temporal_ui_port=free_port(),
    )


async def _connect(stack: EmbeddedStack) -> Client:
    return await connect_temporal(stack.temporal_address, stack.settings.temporal_namespace)


def _mongo(stack: EmbeddedStack) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(stack.mongodb_uri, tz_aware=True)


async def _start(stack: EmbeddedStack) -> EmbeddedStack:
    return await asyncio.to_thread(stack.start)


async def test_embedded_stack_keeps_documents_and_workflow_histories_across_restarts(
    tmp_path: Path,
) -> None:
    workflow_id = f"persist-{uuid.uuid4().hex}"
    task_queue = f"persist-{uuid.uuid4().hex}"

    first = await _start(EmbeddedStack(_embedded_settings(tmp_path / "data")))
    try:
        async with _mongo(first) as mongo:
            await mongo.omnijourney.customers.insert_one({"tenant_id": "t1", "name": "mei"})
        client = await _connect(first)
        await client.start_workflow(
            AwaitFinishWorkflow.run,
            id=workflow_id,
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(TENANT, "t1")]),
        )
    finally:
        await asyncio.to_thread(first.stop)

    # New ports on purpose: only the data directory carries state over.
    second = await _start(EmbeddedStack(_embedded_settings(tmp_path / "data")))
    try:
        async with _mongo(second) as mongo:
            found = await mongo.omnijourney.customers.find_one({"tenant_id": "t1"})
        assert found is not None
        assert found["name"] == "mei"

        client = await _connect(second)
        handle = client.get_workflow_handle(workflow_id)
        description = await handle.describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert description.typed_search_attributes.get(TENANT) == "t1"
        async with Worker(client, task_queue=task_queue, workflows=[AwaitFinishWorkflow]):
            await handle.signal(AwaitFinishWorkflow.finish)
            assert await handle.result() == "finished"
    finally:
        await asyncio.to_thread(second.stop)


def test_embedded_stack_starts_nothing_when_both_addresses_are_configured(tmp_path: Path) -> None:
    settings = Settings(
        mongodb_uri="mongodb://mongo.internal:27017",
        temporal_address="temporal.internal:7233",
        data_dir=tmp_path / "data",
    )
    with EmbeddedStack(settings) as stack:
        assert stack.mongodb is None
        assert stack.temporal is None
        assert stack.mongodb_uri == "mongodb://mongo.internal:27017"
        assert stack.temporal_address == "temporal.internal:7233"
        assert stack.temporal_ui_url is None
    assert not (tmp_path / "data").exists()
