"""Where the webhook connector may post, and how much of an answer it waits for and reads,
against real HTTP servers on 127.0.0.1.

Names are answered by a stub resolver injected into the destination guard (no real DNS), so a
name like `rebind.test` can resolve to 127.0.0.1 once and to a metadata address the next time.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.netguard import DestinationGuard
from connectors.webhook import FixedSigningSecrets, WebhookConnector
from runtime.processes import free_port
from tests.integration.test_webhook_connector import NOW, SECRET, Receiver, request
from tests.unit.test_netguard import StubResolver

LOOPBACK = "127.0.0.1/32"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def connector(guard: DestinationGuard | None = None) -> WebhookConnector:
    return WebhookConnector(FixedSigningSecrets(SECRET), guard, clock=lambda: NOW)


def port_of(receiver: Receiver) -> int:
    return int(receiver.server.server_address[1])


# --- destinations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hooks/omni",
        "http://2130706433:{port}/hooks/omni",
        "http://0x7f.1:{port}/hooks/omni",
        "http://0177.0.0.1:{port}/hooks/omni",
        "http://[::ffff:127.0.0.1]:{port}/hooks/omni",
        "http://localhost:{port}/hooks/omni",
        "http://localhost.:{port}/hooks/omni",
    ],
)
async def test_a_loopback_destination_is_refused_for_good_and_nothing_is_sent(
    receiver: Receiver, url: str
) -> None:
    async with connector() as webhook:
        with pytest.raises(PermanentChannelError) as caught:
            await webhook.execute(request(url.format(port=port_of(receiver))))
    assert caught.value.code == "destination_not_allowed"
    assert "destination not allowed" in str(caught.value)
    assert receiver.requests == []


async def test_a_name_resolving_to_loopback_is_refused_without_naming_the_address(
    receiver: Receiver,
) -> None:
    resolver = StubResolver({"hooks.example.test": [["127.0.0.1"]]})
    url = f"http://hooks.example.test:{port_of(receiver)}/hooks/omni"
    async with connector(DestinationGuard(resolver=resolver)) as webhook:
        with pytest.raises(PermanentChannelError) as caught:
            await webhook.execute(request(url))
    assert caught.value.code == "destination_not_allowed"
    assert str(caught.value) == "webhook to hooks.example.test: destination not allowed"
    assert receiver.requests == []


async def test_a_name_with_any_refused_address_is_refused(receiver: Receiver) -> None:
    resolver = StubResolver({"mixed.test": [["127.0.0.1", "10.0.0.7"]]})
    url = f"http://mixed.test:{port_of(receiver)}/hooks/omni"
    async with connector(DestinationGuard([LOOPBACK], resolver=resolver)) as webhook:
        with pytest.raises(PermanentChannelError) as caught:
            await webhook.execute(request(url))
    assert caught.value.code == "destination_not_allowed"
    assert "10.0.0.7" not in str(caught.value)
    assert receiver.requests == []


async def test_a_rebinding_name_reaches_only_the_address_that_was_checked(
    receiver: Receiver,
) -> None:
    resolver = StubResolver({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    url = f"http://rebind.test:{port_of(receiver)}/hooks/omni"
    async with connector(DestinationGuard([LOOPBACK], resolver=resolver)) as webhook:
        outcome = await webhook.execute(request(url))
        with pytest.raises(PermanentChannelError) as caught:
            await webhook.execute(request(url))

    assert outcome.external_id == "msg-1"
    [received] = receiver.requests
    assert received.headers["host"] == f"rebind.test:{port_of(receiver)}"
    # One lookup per connection (the receiver closes each): the first answer was connected to,
    # the second was checked and refused before any connection.
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert caught.value.code == "destination_not_allowed"
    assert "169.254" not in str(caught.value)


@pytest.mark.parametrize("name", ["receiver", "crm.corp.example"])
async def test_an_allowed_host_name_is_posted_to_whatever_it_resolves_to(
    receiver: Receiver, name: str
) -> None:
    resolver = StubResolver({name: [["127.0.0.1"]]})
    url = f"http://{name}:{port_of(receiver)}/hooks/omni"
    async with connector(DestinationGuard([name], resolver=resolver)) as webhook:
        outcome = await webhook.execute(request(url))
    assert outcome.detail == {"status_code": 200}
    assert len(receiver.requests) == 1


async def test_a_connection_failure_names_the_host_but_not_its_address() -> None:
    resolver = StubResolver({"down.example.test": [["127.0.0.1"]]})
    url = f"http://down.example.test:{free_port()}/hook"
    async with connector(DestinationGuard([LOOPBACK], resolver=resolver)) as webhook:
        with pytest.raises(TransientChannelError) as caught:
            await webhook.execute(request(url))
    assert "down.example.test" in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)


# --- deadline and size cap -----------------------------------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1 whose `reply(sock)` writes whatever it likes; it records the
    bytes it managed to send and whether the client hung up first."""

    def __init__(self, reply: Callable[[socket.socket, RawServer], None]) -> None:
        self.sent = 0
        self.client_left = threading.Event()
        self.done = threading.Event()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.recv(65536)  # the request head and (small) body
                try:
                    reply(self.request, server)
                except OSError:
                    server.client_left.set()
                finally:
                    server.done.set()

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        self.thread = threading.Thread(
            target=self.tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def send(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        self.sent += len(data)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.tcp.server_address[1]}/hook"

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.tcp.shutdown()
        self.tcp.server_close()
        self.thread.join(timeout=10)


def trickle_body(sock: socket.socket, server: RawServer) -> None:
    """A 200 whose chunked body arrives one byte every 50 ms (for at most 10 s)."""
    server.send(sock, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(200):
        server.send(sock, b"1\r\n \r\n")
        threading.Event().wait(0.05)


def trickle_head(sock: socket.socket, server: RawServer) -> None:
    """A response head that never ends: one header byte every 50 ms (for at most 10 s)."""
    server.send(sock, b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(200):
        server.send(sock, b"a")
        threading.Event().wait(0.05)


HUGE = 100 * 1024 * 1024


def huge_body(sock: socket.socket, server: RawServer) -> None:
    """A 200 announcing and sending 100 MiB, as fast as the client takes it."""
    server.send(sock, f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n".encode())
    chunk = b" " * 65536
    for _ in range(HUGE // len(chunk)):
        server.send(sock, chunk)


@pytest.mark.parametrize("reply", [trickle_body, trickle_head])
async def test_a_receiver_that_trickles_bytes_is_cut_at_the_deadline(
    reply: Callable[[socket.socket, RawServer], None],
) -> None:
    with RawServer(reply) as server:
        async with connector(DestinationGuard([LOOPBACK])) as webhook:
            with pytest.raises(TransientChannelError, match=r"timed out after 0\.5 s"):
                await webhook.execute(request(server.url, timeout_seconds=0.5))
        assert server.done.wait(timeout=15)
    # The connector hung up: the server did not get to trickle its 200 bytes.
    assert server.client_left.is_set()


async def test_a_huge_answer_is_cut_at_the_size_cap_without_reading_it() -> None:
    with RawServer(huge_body) as server:
        async with connector(DestinationGuard([LOOPBACK])) as webhook:
            outcome = await webhook.execute(request(server.url, timeout_seconds=30))
        assert server.done.wait(timeout=30)
    assert outcome.detail == {"status_code": 200}
    assert outcome.external_id is None
    assert server.client_left.is_set()
    # Socket buffers hold a few MiB at most; reading the body whole would take all 100 MiB.
    assert server.sent < HUGE // 4
