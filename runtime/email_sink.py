"""A local SMTP sink (aiosmtpd) that keeps what it receives: the e-mail channel's stand-in for
`omnijourney run` and the tests' real SMTP server.

It listens on 127.0.0.1 (a free port), accepts every message into `received` (parsed, with its
envelope), and answers `250 2.0.0 Ok: queued as <id>` the way Postfix does. `answers` scripts the
next replies to RCPT or DATA (`"451 4.3.0 try again"`), for exercising failures; `logins` holds
the (username, password) pairs clients authenticated with (any login is accepted);
`log_received` logs each message's subject and recipient.

aiosmtpd comes with the `embedded` extra: this module is imported only where the sink runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["rcpt", "data"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    queue_id: str


@dataclass
class EmailSink:
    """The sink's state; `serve()` listens and yields (host, port)."""

    received: list[Received] = field(default_factory=list)
    answers: dict[Stage, list[str]] = field(default_factory=lambda: {"rcpt": [], "data": []})
    logins: list[tuple[str, str]] = field(default_factory=list)
    log_received: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _scripted(self, stage: Stage) -> str | None:
        queue = self.answers[stage]
        return queue.pop(0) if queue else None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        scripted = self._scripted("rcpt")
        if scripted is not None:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted = self._scripted("data")
        if scripted is not None:
            return scripted
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        queue_id = f"Q{next(self._ids):06d}"
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, queue_id)
        )
        if self.log_received:
            log.info(
                "e-mail sink: %r to %s, queued as %s", parsed["Subject"], parsed["To"], queue_id
            )
        return f"250 2.0.0 Ok: queued as {queue_id}"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)

    @contextlib.asynccontextmanager
    async def serve(
        self,
        *,
        host: str = "127.0.0.1",
        tls: Any = None,
        require_starttls: bool = False,
        implicit_tls: bool = False,
    ) -> AsyncIterator[tuple[str, int]]:
        """Listen on `host` (a free port) until the block ends; `tls` (an `ssl.SSLContext`)
        offers STARTTLS, or with `implicit_tls` wraps the connection from the first byte."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(
                self,
                hostname="sink.localhost",
                tls_context=None if implicit_tls else tls,
                require_starttls=require_starttls,
                authenticator=self._authenticate,
                auth_require_tls=False,
                loop=loop,
            ),
            host,
            0,
            ssl=tls if implicit_tls else None,
        )
        try:
            yield host, int(server.sockets[0].getsockname()[1])
        finally:
            server.close()
            await server.wait_closed()
