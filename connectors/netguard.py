"""Where an outgoing webhook may connect: the address policy and a transport that enforces it.

A journey designer chooses webhook URLs, so without a policy the worker would reach anything it
can: its own loopback services, cloud metadata (169.254.169.254, fd00:ec2::254), the private
network and the compose services beside it (`mongodb`, `temporal`). `DestinationGuard` refuses

- addresses that are not public unicast: loopback, private (RFC 1918, IPv6 ULA), shared (CGNAT,
  100.64/10), link-local, multicast, unspecified, documentation/benchmarking and other reserved
  ranges, IPv6 outside 2000::/3; IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`, 6to4, NAT64
  `64:ff9b::/96`) is judged as the IPv4 address it reaches; IPv4-compatible `::a.b.c.d` always;
- host names with a single label (`mongodb`, `temporal-ui`: resolver search domains make them
  internal names) and the local-only suffixes `localhost`, `local`, `internal`, `localdomain`,
  `home.arpa`,

unless the deployment's allow-list (`WEBHOOK_ALLOWED_NETWORKS`) names them. Each entry is either
a network in CIDR form (`10.20.0.0/16`, `127.0.0.1/32`, `fd12::/64`): an address inside it is
allowed, whatever its kind; or a host name (`crm.corp.example`, `receiver`): that exact host
(case-insensitive, trailing dot ignored, no wildcards, not its subdomains) is allowed whatever it
resolves to, since the operator who lists a name vouches for its DNS.

Two moments check the policy. `literal_refusal` looks at a URL's host alone, without DNS (journey
validation: domain code must not resolve names). `GuardedTransport` checks at connect time: its
network backend resolves the host once, requires every answer to be allowed, and opens the TCP
connection to an address it checked, so a DNS answer that changes between a check and the
connection (DNS rebinding) cannot redirect it. The URL, the Host header and TLS SNI keep the
original name: httpcore derives them from the request, not from the connected address.

A refusal raises `DestinationNotAllowed`, whose message names the host only; the resolved
address and the rule it broke are in `detail`, for the logs (people who design journeys must not
learn the internal network's addresses from error texts).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""`(host, port) -> addresses` as text; the default asks the system resolver (getaddrinfo)."""

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# IANA's special-purpose IPv4 registry, by what a refusal calls them.
_IPV4_FORBIDDEN: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared (carrier-grade NAT)"),  # holds Alibaba's metadata address
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),  # cloud metadata services live here
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),
    (_V4("192.0.2.0/24"), "reserved"),
    (_V4("192.88.99.0/24"), "reserved"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "reserved"),
    (_V4("198.51.100.0/24"), "reserved"),
    (_V4("203.0.113.0/24"), "reserved"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),  # and the broadcast address
)
_IPV6_GLOBAL_UNICAST = _V6("2000::/3")
_IPV6_FORBIDDEN_GLOBAL: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments: Teredo, benchmarking, ORCHID
    (_V6("2001:db8::/32"), "reserved"),
    (_V6("3fff::/20"), "reserved"),
)
_IPV4_COMPATIBLE = _V6("::/96")
_NAT64 = _V6("64:ff9b::/96")
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_IPV4_PART = {
    16: re.compile(r"^[0-9a-f]*$"),
    8: re.compile(r"^[0-7]+$"),
    10: re.compile(r"^[0-9]+$"),
}


class DestinationNotAllowed(Exception):
    """`host` may not be reached. `str()` names the host only; `detail` says why, for logs."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"destination not allowed: {host}")
        self.host = host
        self.detail = detail


def _ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a URL parser reads in `host` (WHATWG rules: `2130706433`, `0x7f.1`,
    `0177.0.0.1`, `127.1`), or None when `host` is not written as a number."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        base, digits = 10, part
        if part[:2] in ("0x", "0X"):
            base, digits = 16, part[2:].lower()
        elif len(part) > 1 and part.startswith("0"):
            base, digits = 8, part[1:]
        if not part or not _IPV4_PART[base].match(digits):
            return None
        numbers.append(int(digits, base) if digits else 0)
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> IPAddress | None:
    """The IP address `host` spells (brackets, zone ids and odd IPv4 forms accepted), or None."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return _ipv4_spelling(text) if ":" not in text else None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches on the wire (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast destination (e.g. `loopback`), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"{inner} (IPv4 inside IPv6)" if inner else None
        if address in _IPV4_COMPATIBLE:
            return (
                "unspecified"
                if address.is_unspecified
                else "loopback"
                if address.is_loopback
                else "reserved"
            )
        if address not in _IPV6_GLOBAL_UNICAST:
            for kind in (
                "unspecified",
                "loopback",
                "multicast",
                "link_local",
                "site_local",
                "private",
            ):
                if getattr(address, f"is_{kind}"):
                    return kind.replace("_", "-")
            return "reserved"
        for network6, kind in _IPV6_FORBIDDEN_GLOBAL:
            if address in network6:
                return kind
        return None
    for network4, kind in _IPV4_FORBIDDEN:
        if address in network4:
            return kind
    # Python's registry as a second opinion, in case IANA adds a range before this table does.
    return None if address.is_global else "reserved"


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _name_refusal(name: str) -> str | None:
    """Why host name `name` (normalised) is refused by its shape alone, or None."""
    labels = name.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        return "not a valid host name"
    if len(labels) == 1:
        return "a single-label name (an internal service name)"
    for suffix in _LOCAL_SUFFIXES:
        if name == suffix or name.endswith(f".{suffix}"):
            return f"a local-only name (.{suffix})"
    return None


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address getaddrinfo gives for `host` (TCP), in its order, without repeats."""
    answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


class DestinationGuard:
    """The deployment's webhook destination policy and the resolver it checks answers of.

    `allowed` holds the allow-list entries (see the module docstring); a malformed entry raises
    `ValueError` naming it. `resolver` is for tests (a stub answering for names like
    `rebind.test`); production uses the system resolver.
    """

    def __init__(self, allowed: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.hosts: set[str] = set()
        for entry in allowed:
            self._add(entry)
        self._resolve = resolver or system_resolver

    def _add(self, entry: str) -> None:
        text = entry.strip()
        if "/" in text or literal_address(text) is not None:
            try:
                self.networks.append(ipaddress.ip_network(text.strip("[]"), strict=True))
            except ValueError as exc:
                raise ValueError(f"allowed network {entry!r} is not a network: {exc}") from None
            return
        name = _normal_host(text)
        with contextlib.suppress(UnicodeError):  # then reported as not a host name below
            name = name.encode("idna").decode("ascii")
        if not name or _name_refusal(name) == "not a valid host name":
            raise ValueError(f"allowed destination {entry!r} is neither a CIDR network nor a host")
        self.hosts.add(name)

    def _address_refusal(self, address: IPAddress) -> str | None:
        reason = address_refusal(address)
        if reason is None:
            return None
        unwrapped = address
        if isinstance(address, ipaddress.IPv6Address):
            unwrapped = _embedded_ipv4(address) or address
        if any(
            candidate in network for candidate in {address, unwrapped} for network in self.networks
        ):
            return None
        return reason

    def literal_refusal(self, host: str) -> str | None:
        """Why a URL with host `host` may not be posted to, judged without DNS; None if it may
        (so far: a name may still resolve to a refused address at connect time)."""
        name = _normal_host(host)
        if name in self.hosts:
            return None
        address = literal_address(host)
        if address is not None:
            reason = self._address_refusal(address)
            return f"not a public address ({reason})" if reason else None
        return _name_refusal(name)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, every one allowed; `DestinationNotAllowed`
        if the host or any address it resolves to is refused. Resolves at most once."""
        reason = self.literal_refusal(host)
        if reason is not None:
            raise DestinationNotAllowed(host, f"{host} is {reason}")
        address = literal_address(host)
        if address is not None:
            return [str(address)]
        answers = list(await self._resolve(host, port))
        if not answers:
            raise OSError(f"{host} resolved to no address")
        if _normal_host(host) in self.hosts:
            return answers
        for answer in answers:
            parsed = literal_address(answer)
            why = "not an address" if parsed is None else self._address_refusal(parsed)
            if why is not None:
                raise DestinationNotAllowed(host, f"{host} resolves to {answer}, {why}")
        return answers


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses its guard allowed."""

    def __init__(
        self, guard: DestinationGuard, backend: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # `resolve` never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationNotAllowed("unix socket", "webhooks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connections opened through a `GuardedBackend`.

    No proxy and no environment settings (a proxy would connect on our behalf, unchecked).
    """

    def __init__(
        self, guard: DestinationGuard, backend: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        super().__init__(trust_env=False)
        # httpx 0.28 takes no network backend (encode/httpx#3749 proposes one), so the pool it
        # built is replaced by the same pool over the guarded backend; its request/response
        # mapping and error translation are kept.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard, backend),
        )
