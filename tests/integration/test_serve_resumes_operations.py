"""A bulk operation interrupted by a shutdown is finished by the next API process at start-up,
without anyone reading it.

Two API processes one after the other (`runtime.serve.serve`, uvicorn on a free port, over the
test's MongoDB database and the session's Temporal dev server). The operation cancels
enrollments that have a projection but no workflow, so each is quickly `skipped`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from runtime.processes import free_port
from runtime.resources import open_resources
from runtime.serve import serve
from runtime.settings import Settings
from store.database import Store
from store.operations import BulkOperation
from tests.api.journeys import CREATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, eventually, gql, make_tenant, project_enrollment

TARGETS = 400
CANCEL = """
mutation($j: ID!) {
  cancelJourneyEnrollments(journeyId: $j, reason: "retired") {
    __typename ... on BulkOperation { id }
  }
}
"""


@contextlib.asynccontextmanager
async def _api_process(
    mongo_uri: str, database: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    """An API process (no worker) until the block ends, then its shutdown (as on SIGTERM)."""
    settings = Settings(
        mongodb_database=database, api_port=free_port(), log_level="WARNING", wecom_simulator=False
    )
    address = temporal_env.client.service_client.config.target_host
    stop, ready = asyncio.Event(), asyncio.Event()

    async def started() -> None:
        ready.set()

    async with open_resources(settings, mongo_uri, address) as resources:
        task = asyncio.create_task(
            serve(resources, api=True, worker=False, ready=started, stop=stop, access_log=False)
        )
        try:
            await asyncio.wait(
                [task, asyncio.create_task(ready.wait())], return_when="FIRST_COMPLETED"
            )
            assert ready.is_set(), "the API did not start"
            base = f"http://127.0.0.1:{settings.api_port}"
            async with httpx.AsyncClient(base_url=base) as client:
                yield client
        finally:
            stop.set()
            await task


async def _operation(store: Store, tenant: TenantKeys, operation_id: str) -> BulkOperation:
    found = await store.operations.get(tenant.tenant_id, operation_id)
    assert found is not None
    return found


async def test_an_operation_interrupted_by_a_shutdown_is_finished_by_the_next_process_unread(
    mongo_uri: str, mongo_db: AsyncDatabase[dict[str, Any]], temporal_env: WorkflowEnvironment
) -> None:
    store = Store(mongo_db)
    await store.ensure_indexes()
    tenant = await make_tenant(store, "brand-ops")
    at = datetime.now(UTC)

    async with _api_process(mongo_uri, mongo_db.name, temporal_env) as api:
        created = await gql(
            api, tenant, CREATE_JOURNEY, {"input": {"name": "J", "definition": welcome_journey()}}
        )
        journey_id = created["createJourney"]["id"]
        await asyncio.gather(
            *(
                project_enrollment(store, tenant.tenant_id, journey_id, f"cus_{n:04}", at)
                for n in range(TARGETS)
            )
        )
        started = await gql(api, tenant, CANCEL, {"j": journey_id}, role="operator")
        operation_id = started["cancelJourneyEnrollments"]["id"]

        async def under_way() -> BulkOperation | None:
            found = await _operation(store, tenant, operation_id)
            return found if found.handled > 0 else None

        await eventually(under_way, attempts=1000, interval=0.01)
    # the process has shut down mid-way: the operation is left running, its lease given up
    left = await _operation(store, tenant, operation_id)
    assert left.status == "running"
    assert 0 < left.handled < TARGETS
    assert left.lease_until is not None and left.lease_until <= datetime.now(UTC)

    async with _api_process(mongo_uri, mongo_db.name, temporal_env):

        async def finished() -> BulkOperation | None:
            found = await _operation(store, tenant, operation_id)
            return found if found.finished else None

        done = await eventually(finished)

    assert done.status == "succeeded"
    assert done.attempts == 2
    assert done.handled == done.total >= TARGETS
