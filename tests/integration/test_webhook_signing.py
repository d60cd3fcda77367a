"""Per-tenant webhook secrets end to end: the store's secrets sign real deliveries to a local
receiver, both secrets during a rotation's overlap and only the new one after it."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import ActionRequest, CustomerContact
from connectors.netguard import DestinationGuard
from connectors.webhook import (
    SIGNATURE_HEADER,
    SigningSecrets,
    WebhookConnector,
    sign,
    verify_signature,
)
from store.database import Store
from store.webhook_secrets import CachedSigningSecrets

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEGACY = SecretStr("whsec-deployment-wide-legacy")


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 and keeps each request's headers and body."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def verifies(self, secret: SecretStr, at: datetime) -> bool:
        """Whether the last delivery verifies with `secret` by the documented receiver rule."""
        headers, body = self.received[-1]
        return verify_signature(
            secret,
            headers["x-omnijourney-timestamp"],
            body,
            headers[SIGNATURE_HEADER.lower()],
            now=at.timestamp(),
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=10)


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.monotonic = 0.0

    def seconds(self) -> float:
        return self.now.timestamp()


LOOPBACK = DestinationGuard(["127.0.0.1/32"])  # the receiver's address is not public


@pytest.fixture
async def webhooks() -> AsyncIterator[Callable[..., WebhookConnector]]:
    """Makes connectors (each owns its HTTP client) and closes them after the test."""
    made: list[WebhookConnector] = []

    def make(secrets: SigningSecrets, clock: Clock) -> WebhookConnector:
        made.append(WebhookConnector(secrets, LOOPBACK, clock=clock.seconds))
        return made[-1]

    yield make
    for connector in made:
        await connector.aclose()


def post(url: str, tenant: str = "t-luckin") -> ActionRequest:
    return ActionRequest(
        tenant_id=tenant,
        enrollment_id=f"{tenant}:j:c-1",
        node_id="notify",
        action="post",
        params={"url": url, "payload": {"n": 1}},
        idempotency_key=f"{tenant}:j:c-1:notify:1",
        customer=CustomerContact(customer_id="c-1"),
    )


async def test_deliveries_carry_both_signatures_during_the_overlap_and_only_the_new_after(
    store: Store,
    receiver: Receiver,
    webhooks: Callable[..., WebhookConnector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    secrets = CachedSigningSecrets(store.webhook_secrets, initial=LEGACY, ttl=0)
    connector = webhooks(secrets, clock)

    # A tenant without a secret of its own starts with the deprecated deployment-wide one.
    await connector.execute(post(receiver.url))
    assert receiver.verifies(LEGACY, clock.now)
    assert receiver.received[-1][0][SIGNATURE_HEADER.lower()].count("sha256=") == 1

    new, info = await store.webhook_secrets.rotate("t-luckin", clock.now, timedelta(hours=24))
    assert info.previous_valid_until == T0 + timedelta(hours=24)

    clock.now = T0 + timedelta(hours=23)
    await connector.execute(post(receiver.url))
    header = receiver.received[-1][0][SIGNATURE_HEADER.lower()]
    assert header.count("sha256=") == 2 and "," in header
    assert receiver.verifies(new, clock.now)
    assert receiver.verifies(LEGACY, clock.now)

    clock.now = T0 + timedelta(hours=24, seconds=1)
    await connector.execute(post(receiver.url))
    assert receiver.verifies(new, clock.now)
    assert not receiver.verifies(LEGACY, clock.now)
    assert receiver.received[-1][0][SIGNATURE_HEADER.lower()].count("sha256=") == 1

    for secret in (new, LEGACY):
        assert secret.get_secret_value() not in caplog.text


async def test_each_tenant_signs_with_its_own_generated_secret(
    store: Store, receiver: Receiver, webhooks: Callable[..., WebhookConnector]
) -> None:
    clock = Clock()
    connector = webhooks(CachedSigningSecrets(store.webhook_secrets, ttl=0), clock)
    luckin, _ = await store.webhook_secrets.rotate("t-luckin", T0, timedelta(0))
    heytea, _ = await store.webhook_secrets.rotate("t-heytea", T0, timedelta(0))
    assert luckin.get_secret_value() != heytea.get_secret_value()

    await connector.execute(post(receiver.url, "t-heytea"))

    assert receiver.verifies(heytea, clock.now)
    assert not receiver.verifies(luckin, clock.now)


async def test_a_rotation_without_overlap_stops_the_old_secret_at_once(
    store: Store, receiver: Receiver, webhooks: Callable[..., WebhookConnector]
) -> None:
    clock = Clock()
    connector = webhooks(CachedSigningSecrets(store.webhook_secrets, ttl=0), clock)
    first, _ = await store.webhook_secrets.rotate("t-luckin", T0, timedelta(hours=2))
    second, info = await store.webhook_secrets.rotate("t-luckin", T0, timedelta(0))

    await connector.execute(post(receiver.url))

    assert info.previous_valid_until is None
    assert receiver.verifies(second, clock.now)
    assert not receiver.verifies(first, clock.now)


async def test_a_rotation_reaches_a_cached_sender_once_its_cache_expires(
    store: Store, receiver: Receiver, webhooks: Callable[..., WebhookConnector]
) -> None:
    clock = Clock()
    secrets = CachedSigningSecrets(
        store.webhook_secrets, ttl=5.0, monotonic=lambda: clock.monotonic
    )
    connector = webhooks(secrets, clock)
    old, _ = await store.webhook_secrets.rotate("t-luckin", T0, timedelta(0))
    await connector.execute(post(receiver.url))

    new, _ = await store.webhook_secrets.rotate("t-luckin", T0, timedelta(0))
    clock.monotonic = 4.0
    await connector.execute(post(receiver.url))
    assert receiver.verifies(old, clock.now)  # still cached

    clock.monotonic = 5.0
    await connector.execute(post(receiver.url))
    assert receiver.verifies(new, clock.now)
    assert not receiver.verifies(old, clock.now)


def test_a_receiver_accepts_a_header_when_any_listed_signature_verifies() -> None:
    body, at = b'{"n": 1}', "1750000000"
    good = sign("whsec-new", at, body)
    other = sign("whsec-old", at, body)

    assert verify_signature("whsec-new", at, body, f"{other},{good}", now=1.75e9)
    assert verify_signature("whsec-new", at, body, f"{good}, {other}", now=1.75e9)
    assert not verify_signature("whsec-new", at, body, f"{other},sha256=00", now=1.75e9)
    assert not verify_signature("whsec-new", at, body, "", now=1.75e9)
