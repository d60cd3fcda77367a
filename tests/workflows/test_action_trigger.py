"""An action receives the event that brought the enrollment to it (e.g. a WeCom welcome code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from domain.engine import EventRef
from domain.events import Event
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition
from tests.workflows.harness import Bench


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


async def test_the_entry_event_reaches_the_first_action_as_its_trigger(
    jb: Bench, receiver: str
) -> None:
    definition = JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            ActionNode(id="notify", channel="webhook", action="post", params={"url": receiver}),
            ExitNode(id="done"),
        ],
        edges=[Edge(source="entry", target="notify"), Edge(source="notify", target="done")],
    )
    journey_id, version = await jb.publish(definition)
    customer_id = await jb.customer(wecom_external_userid="wm_trigger")
    now = datetime.now(UTC)
    added = Event(
        id="add-9",
        tenant_id=jb.tenant_id,
        customer_id=customer_id,
        type="wecom.contact_added",
        identity={"wecom_external_userid": "wm_trigger"},
        timestamp=now,
        properties={"welcome_code": "WELCOME-123", "state": "douyin-ad-spring"},
        received_at=now,
    )
    await jb.store.events.insert(added)
    entry = EventRef(id=added.id, type=added.type, properties=added.properties, occurred_at=now)

    enrollment_id = await jb.enroll(journey_id, version, customer_id, entry_event=entry)
    await jb.result(enrollment_id)

    [body] = _Recorder.bodies
    stored = await jb.store.events.get(jb.tenant_id, "add-9")
    assert stored is not None
    assert body["trigger"] == {
        "id": "add-9",
        "type": "wecom.contact_added",
        "timestamp": stored.timestamp.isoformat(),
        "properties": {"welcome_code": "WELCOME-123", "state": "douyin-ad-spring"},
    }
