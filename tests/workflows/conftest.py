"""Fixtures shared by the workflow tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import Bench, bench


@pytest.fixture
async def jb(
    mongo_db: AsyncDatabase[Any], temporal_env: WorkflowEnvironment
) -> AsyncIterator[Bench]:
    """Store, registry and running workers on this test's database; leftovers terminated."""
    async with bench(mongo_db, temporal_env.client) as b:
        yield b
