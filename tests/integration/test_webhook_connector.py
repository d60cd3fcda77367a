"""The webhook connector against a real HTTP server on 127.0.0.1 that answers scripted replies.

Loopback is not a webhook destination by default: these connectors allow 127.0.0.1 the way a
deployment allows an on-premise receiver, with the allow-list (`WEBHOOK_ALLOWED_NETWORKS`).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import ActionRequest, CustomerContact
from connectors.errors import InvalidActionParams, PermanentChannelError, TransientChannelError
from connectors.netguard import DestinationGuard
from connectors.webhook import FixedSigningSecrets, WebhookConnector, verify_signature
from runtime.processes import free_port

SECRET = SecretStr("whsec-test-0123456789")
NOW = 1_750_000_000.0
LOOPBACK_ALLOWED = DestinationGuard(["127.0.0.1/32"])


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"id": "msg-1"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    hold: bool = False  # never answer until the server stops


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A scripted HTTP server: records every request, answers the next scripted reply."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: deque[Reply] = deque()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(
                    Received(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                reply = receiver.script.popleft() if receiver.script else Reply()
                if reply.hold:
                    receiver.released.wait(timeout=30)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval keeps shutdown (which waits for the next poll) quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/omni"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def connector() -> AsyncIterator[WebhookConnector]:
    async with WebhookConnector(
        FixedSigningSecrets(SECRET), LOOPBACK_ALLOWED, clock=lambda: NOW
    ) as webhook:
        yield webhook


def request(url: str, **params: Any) -> ActionRequest:
    return ActionRequest(
        tenant_id="t-luckin",
        enrollment_id="t-luckin:j-welcome:c-42",
        node_id="notify-crm",
        action="post",
        params={"url": url, **params},
        idempotency_key="t-luckin:j-welcome:c-42:notify-crm:1",
        customer=CustomerContact(
            customer_id="c-42",
            identities={"wecom_external_userid": "wmABC", "phone": "+8613800000000"},
            attributes={"name": "王小明", "tier": "gold"},
        ),
    )


async def test_post_delivers_the_documented_body_and_headers(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    outcome = await connector.execute(
        request(receiver.url, payload={"coupon": "SPRING10"}, headers={"X-Campaign": "spring"})
    )

    assert outcome.external_id == "msg-1"
    assert outcome.detail == {"status_code": 200}
    [received] = receiver.requests
    assert received.path == "/hooks/omni"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["idempotency-key"] == "t-luckin:j-welcome:c-42:notify-crm:1"
    assert received.headers["x-omnijourney-timestamp"] == str(int(NOW))
    assert received.headers["x-campaign"] == "spring"
    assert json.loads(received.body) == {
        "idempotency_key": "t-luckin:j-welcome:c-42:notify-crm:1",
        "tenant_id": "t-luckin",
        "enrollment_id": "t-luckin:j-welcome:c-42",
        "node_id": "notify-crm",
        "customer": {
            "customer_id": "c-42",
            "identities": {"wecom_external_userid": "wmABC", "phone": "+8613800000000"},
            "attributes": {"name": "王小明", "tier": "gold"},
        },
        "trigger": None,
        "payload": {"coupon": "SPRING10"},
    }


async def test_signature_verifies_with_the_secret_and_fails_with_another(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    await connector.execute(request(receiver.url, payload={"n": 1}))
    [received] = receiver.requests
    timestamp = received.headers["x-omnijourney-timestamp"]
    signature = received.headers["x-omnijourney-signature"]

    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, timestamp, received.body, signature, now=NOW)
    assert not verify_signature("another-secret", timestamp, received.body, signature, now=NOW)
    assert not verify_signature(SECRET, timestamp, received.body + b" ", signature, now=NOW)
    assert not verify_signature(SECRET, timestamp, received.body, signature, now=NOW + 301)


async def test_a_retry_sends_the_same_idempotency_key_and_body(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    receiver.script.extend([Reply(status=503, body=b""), Reply()])
    with pytest.raises(TransientChannelError):
        await connector.execute(request(receiver.url))
    await connector.execute(request(receiver.url))

    first, second = receiver.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.body == second.body


async def test_an_idempotency_key_unfit_for_a_header_is_percent_encoded_there(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    key = "t:j:c-1:订单 100%/welcome/1"
    await connector.execute(request(receiver.url).model_copy(update={"idempotency_key": key}))
    [received] = receiver.requests
    assert received.headers["idempotency-key"] == "t:j:c-1:%E8%AE%A2%E5%8D%95%20100%25/welcome/1"
    assert unquote(received.headers["idempotency-key"]) == key
    assert json.loads(received.body)["idempotency_key"] == key


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    receiver: Receiver, connector: WebhookConnector, status: int
) -> None:
    receiver.script.append(Reply(status=status, body=b"oops"))
    with pytest.raises(TransientChannelError) as caught:
        await connector.execute(request(receiver.url))
    assert str(status) in str(caught.value)
    assert caught.value.retry_after is None


async def test_rate_limit_is_transient_with_the_retry_after_delay(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    receiver.script.append(Reply(status=429, body=b"", headers={"Retry-After": "7"}))
    with pytest.raises(TransientChannelError) as caught:
        await connector.execute(request(receiver.url))
    assert caught.value.retry_after == 7.0


async def test_a_retry_after_of_other_digits_is_ignored_not_a_crash(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    receiver.script.append(Reply(status=429, body=b"", headers={"Retry-After": "\xb2"}))
    with pytest.raises(TransientChannelError) as caught:
        await connector.execute(request(receiver.url))
    assert caught.value.retry_after is None


async def test_retry_after_given_as_an_http_date_becomes_seconds_from_now(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    later = formatdate(NOW + 120, usegmt=True)
    receiver.script.append(Reply(status=503, body=b"", headers={"Retry-After": later}))
    with pytest.raises(TransientChannelError) as caught:
        await connector.execute(request(receiver.url))
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize("status", [400, 404, 410])
async def test_client_errors_are_permanent_with_the_status(
    receiver: Receiver, connector: WebhookConnector, status: int
) -> None:
    receiver.script.append(Reply(status=status, body=b'{"error": "no"}'))
    with pytest.raises(PermanentChannelError) as caught:
        await connector.execute(request(receiver.url))
    assert caught.value.code == f"http_{status}"
    assert len(receiver.requests) == 1


async def test_redirects_are_not_followed_and_are_permanent(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    receiver.script.append(Reply(status=302, body=b"", headers={"Location": receiver.url}))
    with pytest.raises(PermanentChannelError) as caught:
        await connector.execute(request(receiver.url))
    assert caught.value.code == "http_302"
    assert len(receiver.requests) == 1


async def test_a_success_without_a_json_id_has_no_external_id(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    receiver.script.append(Reply(status=204, body=b"", headers={}))
    outcome = await connector.execute(request(receiver.url))
    assert outcome.external_id is None
    assert outcome.detail == {"status_code": 204}


async def test_an_id_is_read_only_from_an_uncompressed_answer_within_the_size_cap(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    padded = b'{"id": "msg-big", "pad": "' + b"x" * 70_000 + b'"}'
    zipped = gzip.compress(b'{"id": "msg-zipped"}')
    receiver.script.extend(
        [
            Reply(body=padded),
            Reply(
                body=zipped,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            ),
        ]
    )
    big = await connector.execute(request(receiver.url))
    compressed = await connector.execute(request(receiver.url))
    assert (big.external_id, compressed.external_id) == (None, None)
    assert {received.headers["accept-encoding"] for received in receiver.requests} == {"identity"}


async def test_a_refused_connection_is_transient(connector: WebhookConnector) -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(TransientChannelError) as caught:
        await connector.execute(request(nobody_listens))
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_a_receiver_that_never_answers_times_out_as_transient(
    receiver: Receiver, connector: WebhookConnector
) -> None:
    receiver.script.append(Reply(hold=True))
    with pytest.raises(TransientChannelError, match="timed out"):
        await connector.execute(request(receiver.url, timeout_seconds=0.3))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://user:secret@hooks.example.com/"}, "url"),
        ({"headers": {"Authorization": "Bearer x"}}, "headers"),
        ({"headers": {"X-Omnijourney-Signature": "sha256=forged"}}, "headers"),
        ({"headers": {"idempotency-key": "other"}}, "headers"),
        ({"headers": {"X-Note": "line\r\nInjected: 1"}}, "headers"),
        ({"headers": {"Cookie": "session=stolen"}}, "headers"),
        ({"headers": {"Transfer-Encoding": "chunked"}}, "headers"),
        ({"headers": {"Connection": "Upgrade"}}, "headers"),
        ({"headers": {"Proxy-Connection": "keep-alive"}}, "headers"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 600}, "timeout_seconds"),
        ({"payload": ["not", "an", "object"]}, "payload"),
        ({"body": {}}, "body"),
    ],
)
async def test_bad_params_are_rejected_before_any_request_is_sent(
    receiver: Receiver, connector: WebhookConnector, params: dict[str, Any], field: str
) -> None:
    bad = request(receiver.url).model_copy(
        update={"params": {**request(receiver.url).params, **params}}
    )
    with pytest.raises(InvalidActionParams) as caught:
        await connector.execute(bad)
    assert caught.value.code == "invalid_params"
    assert any(problem.startswith(field) for problem in caught.value.problems)
    assert "webhook.post" in str(caught.value)
    assert receiver.requests == []
