"""Fault injection: the worker, the Temporal dev server and MongoDB killed with -9 mid-run.

The suite itself is `bench.faults` (it prints the figures for 1,000 customers); here it runs
with 100 and the counts are asserted: the journey sends on a webhook and on WeCom (a mass-message
task per customer, counted in the simulator, where a second task is a duplicate). A second test pins one gap it found down precisely.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo import AsyncMongoClient
from temporalio.testing import WorkflowEnvironment

from bench.faults import run_faults
from connectors import default_registry
from connectors.netguard import DestinationGuard
from connectors.webhook import FixedSigningSecrets, WebhookConnector
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition
from runtime.embedded import mongodb_server
from runtime.processes import ManagedProcess, free_port
from runtime.worker import build_workers
from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX
from workflows import client as journeys
from workflows.journey import JourneyWorkflow

CUSTOMERS = 100
OUTAGE = 4.0  # seconds MongoDB stays down: longer than the client's selection timeout below


async def test_every_enrollment_finishes_after_worker_temporal_and_mongodb_are_killed(
    tmp_path: Path,
) -> None:
    report = await run_faults(CUSTOMERS, tmp_path, rate=5.0, deadline=600.0)
    summary = "\n".join(report.lines())
    assert [fault.name for fault in report.faults] == [
        "worker (kill -9)",
        "Temporal (kill -9)",
        "MongoDB (kill -9)",
    ], summary
    assert report.started == report.finished == CUSTOMERS, summary
    assert report.taken == 2 * CUSTOMERS, summary
    assert report.not_stored == [] and report.not_routed == [], summary
    assert report.duplicates == {}, summary
    assert report.resent <= report.in_flight_at_kill, summary
    # one webhook call per customer (by key) and one WeCom mass-message task per customer
    assert report.deliveries == {"crm": CUSTOMERS, "wecom": CUSTOMERS}, summary


class _OutageReceiver(ThreadingHTTPServer):
    """Takes the first call, then kills MongoDB before answering it; the test's event loop
    restarts it `OUTAGE` seconds later."""

    def __init__(self, mongodb: ManagedProcess, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(("127.0.0.1", 0), _OutageHandler)
        self.mongodb = mongodb
        self.loop = loop
        self.keys: list[str] = []
        self.restarted = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def restart_later(self) -> None:
        # Started from the loop's thread: a child dies with the thread that started it
        # (PR_SET_PDEATHSIG), so not from this short-lived handler thread.
        self.loop.call_later(OUTAGE, self._restart)

    def _restart(self) -> None:
        self.mongodb.start()
        self.restarted = True


class _OutageHandler(BaseHTTPRequestHandler):
    server: _OutageReceiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.keys.append(self.headers["Idempotency-Key"])
        if len(self.server.keys) == 1:
            self.server.mongodb.kill()
            self.server.loop.call_soon_threadsafe(self.server.restart_later)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def own_mongodb(tmp_path: Path) -> Iterator[ManagedProcess]:
    """A MongoDB-wire server this test may kill (not the session's)."""
    server = mongodb_server(tmp_path / "mongodb", free_port(), tmp_path / "secantusd.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_mongodb_outage_after_the_channel_took_a_call_does_not_send_it_again(
    own_mongodb: ManagedProcess, temporal_env: WorkflowEnvironment
) -> None:
    receiver = _OutageReceiver(own_mongodb, asyncio.get_running_loop())
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{own_mongodb.port}/?serverSelectionTimeoutMS=1500", tz_aware=True
    )
    try:
        store = Store(mongo["outage"], TEST_SECRET_BOX)
        await store.ensure_indexes()
        now = datetime.now(UTC)
        definition = JourneyDefinition(
            nodes=[
                EntryNode(id="entry"),
                ActionNode(
                    id="post", channel="webhook", action="post", params={"url": receiver.url}
                ),
                ExitNode(id="done"),
            ],
            edges=[Edge(source="entry", target="post"), Edge(source="post", target="done")],
        )
        journey = await store.journeys.create("acme", "outage", now, draft=definition)
        version = await store.journeys.publish("acme", journey.id, definition, [], now)
        customer, _ = await store.customers.resolve("acme", {"external_id": "c1"}, now)
        client = temporal_env.client
        loopback = DestinationGuard(["127.0.0.1/32"])
        async with WebhookConnector(FixedSigningSecrets(SecretStr("secret")), loopback) as webhook:
            registry = default_registry(webhook)
            workers = build_workers(client, store, registry)
            running = [asyncio.create_task(w.run()) for w in workers]
            try:
                outcome = await journeys.enroll(
                    client,
                    tenant_id="acme",
                    journey_id=journey.id,
                    version=version,
                    customer_id=customer.id,
                )
                handle = client.get_workflow_handle_for(JourneyWorkflow.run, outcome.enrollment_id)
                result = await asyncio.wait_for(handle.result(), timeout=120)
            finally:
                await asyncio.gather(*(w.shutdown() for w in workers))
                await asyncio.gather(*running, return_exceptions=True)
        assert receiver.restarted
        assert result.status == "exited"
        deliveries = await mongo["outage"]["deliveries"].find({}).to_list(None)
        assert [d["status"] for d in deliveries] == ["succeeded"]
        # the channel took the call once; the outage came between its answer and the record
        assert receiver.keys == [deliveries[0]["idempotency_key"]]
    finally:
        receiver.shutdown()
        receiver.server_close()
        await mongo.close()
