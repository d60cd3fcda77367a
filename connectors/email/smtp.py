"""One SMTP submission through aiosmtplib, on a connection the destination guard allowed.

The host is resolved once by `connectors.netguard.DestinationGuard` (public addresses, or ones
the deployment's `EMAIL_ALLOWED_NETWORKS` names) and the TCP connection is opened to an address it
checked, so a DNS answer that changes in between cannot redirect it; aiosmtplib then speaks SMTP
over that socket with the configured host name (TLS SNI and certificate checks use the name).

What the server answers becomes the channel's errors:

| answer | error |
|---|---|
| 2xx to DATA | success; `queued as <id>` in the answer becomes `queue_id` |
| 4xx (451 local error, 421 closing, 452 storage...) | `TransientChannelError` |
| 5xx (550 mailbox unavailable, 554, 535 bad login...) | `PermanentChannelError`, `code="smtp_<code>"` |
| refused connection, timeout (per command, or the whole attempt), dropped connection | `TransientChannelError` |
| TLS failure (certificate, handshake), STARTTLS not offered | `PermanentChannelError` |
| host not allowed | `PermanentChannelError`, `code="destination_not_allowed"` |

Messages name the host and the SMTP code and text; addresses in the server's text are masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.netguard import DestinationGuard, DestinationNotAllowedError
from domain.email import EmailSettings

_QUEUE_ID = re.compile(r"queued as ([A-Za-z0-9._-]{1,64})", re.IGNORECASE)
_ADDRESSES = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


@dataclass(frozen=True, slots=True)
class SmtpReceipt:
    """The server's acceptance of the message: its answer and queue id, if it gave one."""

    response: str
    queue_id: str | None


def _masked(text: str) -> str:
    return _ADDRESSES.sub("<address>", " ".join(text.split()))[:200]


def _answered(host: str, code: int, text: str) -> Exception:
    message = f"SMTP server {host} answered {code} {_masked(text)}".rstrip()
    if 400 <= code < 500:
        return TransientChannelError(message)
    if 500 <= code < 600:
        return PermanentChannelError(message, code=f"smtp_{code}")
    return TransientChannelError(message)


async def _connect(addresses: Sequence[str], port: int, timeout: float) -> socket.socket:  # noqa: ASYNC109 - per-address connect deadline
    """A connected non-blocking socket to the first of `addresses` that answers."""
    loop = asyncio.get_running_loop()
    failure: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(timeout):
                await loop.sock_connect(sock, (address, port))
        except (OSError, TimeoutError) as exc:
            sock.close()
            failure = exc if isinstance(exc, OSError) else OSError(f"timed out: {exc}")
            continue
        return sock
    assert failure is not None  # `DestinationGuard.resolve` never answers no address
    raise failure


async def submit(
    settings: EmailSettings,
    message: EmailMessage,
    recipient: str,
    *,
    guard: DestinationGuard,
    tls_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,  # noqa: ASYNC109 - aiosmtplib takes it per command
) -> SmtpReceipt:
    """Send `message` to `recipient` through the tenant's server; errors as the module says."""
    host = settings.host
    try:
        addresses = await guard.resolve(host, settings.port)
    except DestinationNotAllowedError as exc:
        raise PermanentChannelError(
            f"SMTP server {host}: destination not allowed", code="destination_not_allowed"
        ) from exc
    except OSError as exc:
        raise TransientChannelError(f"SMTP server {host} could not be resolved") from exc
    try:
        sock = await _connect(addresses, settings.port, timeout)
    except OSError as exc:
        raise TransientChannelError(f"SMTP server {host} could not be reached") from exc
    password = settings.password.get_secret_value() if settings.password else None
    client = aiosmtplib.SMTP(
        hostname=host,
        sock=sock,
        username=settings.username,
        password=password,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=tls_context,
        timeout=timeout,
        local_hostname=settings.from_address.rpartition("@")[2],
    )
    try:
        # One deadline for the whole conversation, so a server that trickles bytes cannot
        # hold a worker slot (aiosmtplib's own timeout applies per command).
        async with asyncio.timeout(timeout):
            try:
                await client.connect()
            except BaseException:
                sock.close()
                raise
            try:
                refused, answer = await client.send_message(
                    message, sender=settings.from_address, recipients=[recipient]
                )
            finally:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()
                client.close()
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        raise _answered(host, first.code, first.message) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _answered(host, exc.code, exc.message) from exc
    except ssl.SSLError as exc:
        raise PermanentChannelError(
            f"SMTP server {host}: TLS failed ({exc.reason or 'handshake'})", code="smtp_tls"
        ) from exc
    except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
        raise TransientChannelError(f"SMTP server {host}: {type(exc).__name__}") from exc
    except aiosmtplib.SMTPException as exc:
        # STARTTLS or AUTH not offered, and the like: the server will not change by itself.
        raise PermanentChannelError(
            f"SMTP server {host}: {_masked(exc.message)}", code="smtp_unsupported"
        ) from exc
    if refused:
        code, text = next(iter(refused.values()))
        raise _answered(host, code, text)
    found = _QUEUE_ID.search(answer)
    return SmtpReceipt(response=_masked(answer), queue_id=found.group(1) if found else None)
