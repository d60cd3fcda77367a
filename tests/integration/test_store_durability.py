"""What the store was told is written stays written when the MongoDB server is killed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, WriteConcern

from runtime.embedded import mongodb_server
from runtime.processes import free_port
from store.database import Store
from store.mongo import journaled
from tests.fixtures.secrets import TEST_SECRET_BOX

WRITES = 300


async def test_acknowledged_writes_survive_a_kill_9_of_the_mongodb_server(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = mongodb_server(tmp_path / "data", port, tmp_path / "secantusd.log")
    server.start()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=10000", tz_aware=True
    )
    try:
        store = Store(client["durability"], TEST_SECRET_BOX)
        now = datetime.now(UTC)
        ids = [
            (await store.customers.resolve("acme", {"external_id": f"c{n}"}, now))[0].id
            for n in range(WRITES)
        ]
        server.kill()  # right after the last acknowledgement, as a crash would
        server.start()
        kept = await client["durability"]["customers"].count_documents({"_id": {"$in": ids}})
        assert kept == WRITES
    finally:
        await client.close()
        server.stop()


def test_writes_ask_for_the_journal_and_keep_what_the_uri_configured() -> None:
    assert journaled(WriteConcern()).document == {"j": True}
    majority = journaled(WriteConcern(w="majority", wtimeout=500)).document
    assert majority == {"w": "majority", "wtimeout": 500, "j": True}
    assert journaled(WriteConcern(j=False)).document == {"j": False}
    assert journaled(WriteConcern(w=0)).document == {"w": 0}
