"""Killing the worker process mid-journey loses nothing and delivers nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition, WaitNode
from store.database import Store
from store.secretbox import encode_key, generate_key
from tests.fixtures.secrets import TEST_SECRET_BOX
from workflows import client as journeys
from workflows.journey import JourneyWorkflow

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 12


class Receiver(ThreadingHTTPServer):
    """A webhook receiver that is slow to answer, so a kill lands mid-delivery."""

    keys: Counter[str]

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keys = Counter()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        threading.Event().wait(0.15)
        with self.server.lock:
            self.server.keys[self.headers["Idempotency-Key"]] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def test_killed_worker_restarts_and_completes_every_enrollment_without_duplicates(
    mongo_uri: str,
    mongo_db: AsyncDatabase[Any],
    temporal_env: WorkflowEnvironment,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    now = datetime.now(UTC)
    definition = JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            ActionNode(id="first", channel="webhook", action="post", params={"url": receiver.url}),
            WaitNode(id="pause", duration=timedelta(seconds=1)),
            ActionNode(id="second", channel="webhook", action="post", params={"url": receiver.url}),
            ExitNode(id="done"),
        ],
        edges=[
            Edge(source="entry", target="first"),
            Edge(source="first", target="pause"),
            Edge(source="pause", target="second"),
            Edge(source="second", target="done"),
        ],
    )
    journey = await store.journeys.create("acme", "crash", now, draft=definition)
    version = await store.journeys.publish("acme", journey.id, definition, [], now)
    client = temporal_env.client
    enrollment_ids = []
    for n in range(CUSTOMERS):
        customer, _ = await store.customers.resolve("acme", {"external_id": f"c{n}"}, now)
        outcome = await journeys.enroll(
            client,
            tenant_id="acme",
            journey_id=journey.id,
            version=version,
            customer_id=customer.id,
        )
        enrollment_ids.append(outcome.enrollment_id)

    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": mongo_db.name,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": client.namespace,
        "LOG_LEVEL": "WARNING",
        "SECRETS_KEYS": json.dumps({"crash": encode_key(generate_key())}),
        # The receiver is on loopback, which webhooks reach only through the allow-list.
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    deliveries = mongo_db["deliveries"]
    first = start_worker(env, tmp_path / "worker-1.log")
    try:
        for _ in range(600):
            if await deliveries.count_documents({"status": "succeeded"}) >= CUSTOMERS // 2:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(
                "the first worker delivered nothing: " + (tmp_path / "worker-1.log").read_text()
            )
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert await deliveries.count_documents({"status": "succeeded"}) < 2 * CUSTOMERS

    second = start_worker(env, tmp_path / "worker-2.log")
    try:
        for enrollment_id in enrollment_ids:
            handle = client.get_workflow_handle_for(JourneyWorkflow.run, enrollment_id)
            result = await asyncio.wait_for(handle.result(), timeout=120)
            assert result.status == "exited"
    finally:
        second.terminate()
        second.wait(timeout=30)

    records = await deliveries.find({"tenant_id": "acme"}).to_list(None)
    keys = [record["idempotency_key"] for record in records]
    assert len(keys) == 2 * CUSTOMERS == len(set(keys))
    assert all(record["status"] == "succeeded" for record in records)
    # the receiver saw every delivery; a repeat can only carry the same key (channel de-dupes)
    assert set(receiver.keys) == set(keys)
