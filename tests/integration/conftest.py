"""Fixtures shared by the integration tests."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX


@pytest.fixture
async def store(mongo_db: AsyncDatabase[dict[str, Any]]) -> Store:
    """The repositories on this test's fresh database, with their indexes."""
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    return store
