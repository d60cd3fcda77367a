"""The webhook destination policy: which hosts and addresses are refused, what the allow-list
lets through, and that connections go to the address that was checked (DNS rebinding)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx
import pytest

from connectors.netguard import (
    DestinationGuard,
    DestinationNotAllowedError,
    GuardedTransport,
    address_refusal,
    literal_address,
    system_resolver,
)

REFUSED_HOSTS = [
    # loopback, in the spellings URL parsers and inet_aton accept
    "127.0.0.1",
    "127.8.9.10",
    "2130706433",
    "0x7f.1",
    "0x7F000001",
    "0177.0.0.1",
    "127.1",
    "127.0.0.1.",
    "[::1]",
    "::1",
    # unspecified ("this host" on Linux)
    "0.0.0.0",  # noqa: S104 - a destination to refuse, not a bind address
    "0",
    "[::]",
    # cloud metadata and link-local
    "169.254.169.254",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "fe80::1%eth0",
    # private, shared, reserved, multicast, broadcast
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "100.100.100.200",
    "192.0.2.1",
    "198.18.0.1",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "[fc00::1]",
    "[fec0::1]",
    "[ff02::1]",
    "[2001:db8::1]",
    "[2001::1]",
    "[100::1]",
    # IPv4 inside IPv6: mapped, compatible, 6to4, NAT64
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:10.0.0.1]",
    "[::127.0.0.1]",
    "[::8.8.8.8]",
    "[2002:7f00:1::]",
    "[2002:a9fe:a9fe::1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b::a9fe:a9fe]",
    "[64:ff9b:1::1]",
    # names that are internal by shape
    "mongodb",
    "temporal",
    "temporal-ui",
    "localhost",
    "LOCALHOST.",
    "mongodb.",
    "api.localhost",
    "metadata.google.internal",
    "printer.local",
    "nas.home.arpa",
    "box.localdomain",
]

PUBLIC_HOSTS = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "[2606:4700:4700::1111]",
    "[2002:808:808::1]",  # 6to4 of a public address
    "[64:ff9b::808:808]",  # NAT64 of a public address
    "[::ffff:8.8.8.8]",
    "hooks.example.com",
    "xn--bcher-kva.de",
    "crm.corp.example",
    "rebind.test",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_internal_addresses_and_names_are_refused_without_dns(host: str) -> None:
    assert DestinationGuard().literal_refusal(host) is not None


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_public_addresses_and_ordinary_names_pass_the_literal_check(host: str) -> None:
    assert DestinationGuard().literal_refusal(host) is None


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
    ],
)
def test_odd_ipv4_spellings_read_as_the_address_they_reach(spelling: str, address: str) -> None:
    assert literal_address(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize("name", ["example.com", "0x7g.1", "1.2.3.4.5", "08.1.1.1", "1_0.0.0.1"])
def test_names_that_only_look_numeric_are_not_addresses(name: str) -> None:
    assert literal_address(name) is None


def test_refusals_say_what_kind_of_address_it_is() -> None:
    assert address_refusal(ipaddress.ip_address("127.0.0.1")) == "loopback"
    assert address_refusal(ipaddress.ip_address("169.254.169.254")) == "link-local"
    assert address_refusal(ipaddress.ip_address("::ffff:10.0.0.1")) == "private (IPv4 inside IPv6)"
    assert address_refusal(ipaddress.ip_address("8.8.8.8")) is None


def test_an_allowed_network_admits_its_addresses_in_any_spelling() -> None:
    guard = DestinationGuard(["127.0.0.1/32", "10.20.0.0/16", "fd12::/64"])
    for host in ["127.0.0.1", "2130706433", "[::ffff:127.0.0.1]", "10.20.3.4", "[fd12::7]"]:
        assert guard.literal_refusal(host) is None, host
    for host in ["127.0.0.2", "10.21.0.1", "[fd13::1]", "169.254.169.254"]:
        assert guard.literal_refusal(host) is not None, host


def test_an_allowed_host_is_that_exact_name_only() -> None:
    guard = DestinationGuard(["receiver", "CRM.Corp.Example."])
    assert guard.literal_refusal("receiver") is None
    assert guard.literal_refusal("crm.corp.example") is None
    assert guard.literal_refusal("RECEIVER.") is None
    assert guard.literal_refusal("other") is not None
    assert guard.literal_refusal("evil.receiver") is None  # multi-label: decided at connect time


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "300.1.1.1/32", "not a host!", "", "fd00::/129"])
def test_a_malformed_allow_list_entry_is_an_error_naming_it(entry: str) -> None:
    with pytest.raises(ValueError, match="allowed"):
        DestinationGuard([entry])


class StubResolver:
    """Answers from a script per name, one answer list per call (the last one repeats);
    records every call."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        script = self.answers[host]
        return script.pop(0) if len(script) > 1 else script[0]


async def test_every_resolved_address_must_be_allowed() -> None:
    resolver = StubResolver(
        {"mixed.test": [["93.184.215.14", "10.0.0.5"]], "public.test": [["93.184.215.14"]]}
    )
    guard = DestinationGuard(resolver=resolver)
    assert await guard.resolve("public.test", 443) == ["93.184.215.14"]
    with pytest.raises(DestinationNotAllowedError) as caught:
        await guard.resolve("mixed.test", 443)
    assert str(caught.value) == "destination not allowed: mixed.test"
    assert "10.0.0.5" in caught.value.detail  # for the log, never the message


async def test_an_allowed_host_may_resolve_anywhere_and_a_literal_is_not_resolved() -> None:
    resolver = StubResolver({"receiver": [["10.0.0.5"]]})
    guard = DestinationGuard(["receiver"], resolver=resolver)
    assert await guard.resolve("receiver", 80) == ["10.0.0.5"]
    with pytest.raises(DestinationNotAllowedError):
        await guard.resolve("127.0.0.1", 80)
    assert resolver.calls == ["receiver"]


async def test_a_single_label_name_is_refused_before_it_is_resolved() -> None:
    resolver = StubResolver({"mongodb": [["93.184.215.14"]]})
    with pytest.raises(DestinationNotAllowedError):
        await DestinationGuard(resolver=resolver).resolve("mongodb", 27017)
    assert resolver.calls == []


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Pretends to connect anywhere; records where, what was sent and the TLS server name."""

    def __init__(self) -> None:
        self.connected: list[str] = []
        self.sent = bytearray()
        self.server_names: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        backend = self

        class Stream(httpcore.AsyncMockStream):
            async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
                backend.sent += buffer

            async def start_tls(
                self,
                ssl_context: Any,
                server_hostname: str | None = None,
                timeout: float | None = None,  # noqa: ASYNC109 - httpcore's stream interface
            ) -> httpcore.AsyncNetworkStream:
                backend.server_names.append(server_hostname)
                return self

        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        return Stream([reply])


async def test_a_rebinding_name_is_connected_to_the_checked_address_then_refused() -> None:
    resolver = StubResolver({"rebind.test": [["93.184.215.14"], ["127.0.0.1"]]})
    backend = RecordingBackend()
    transport = GuardedTransport(DestinationGuard(resolver=resolver), backend)
    async with httpx.AsyncClient(transport=transport) as client:
        first = await client.post("https://rebind.test/hook", content=b"{}")
        with pytest.raises(DestinationNotAllowedError):
            await client.post("https://rebind.test/hook", content=b"{}")

    assert first.status_code == 200
    # Resolved once per connection; the connection went to the answer that was checked.
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert backend.connected == ["93.184.215.14"]
    # The name, not the address, is what the receiver and its certificate see.
    assert b"\r\nHost: rebind.test\r\n" in bytes(backend.sent)
    assert backend.server_names == ["rebind.test"]


async def test_no_connection_is_attempted_to_a_refused_address() -> None:
    backend = RecordingBackend()
    async with httpx.AsyncClient(transport=GuardedTransport(DestinationGuard(), backend)) as client:
        for url in ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:8000/"]:
            with pytest.raises(DestinationNotAllowedError):
                await client.get(url)
    assert backend.connected == []


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    async def nothing(host: str, port: int) -> Sequence[str]:
        raise OSError("no such name")

    transport = GuardedTransport(DestinationGuard(resolver=nothing), RecordingBackend())
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError, match="could not resolve"):
            await client.get("http://missing.test/")


async def test_the_system_resolver_answers_addresses_for_a_local_name() -> None:
    # `localhost` comes from the hosts file: no DNS traffic leaves the machine.
    answers = await system_resolver("localhost", 80)
    assert answers
    assert {ipaddress.ip_address(answer).is_loopback for answer in answers} == {True}
