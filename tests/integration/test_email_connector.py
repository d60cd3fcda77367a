"""The e-mail connector against a real SMTP server (aiosmtpd on 127.0.0.1, `runtime.email_sink`):
the server receives the rendered message with its headers; its answers map to the channel's
errors. Loopback is not an SMTP destination by default: these connectors allow 127.0.0.1 the
way a deployment allows an internal relay (`EMAIL_ALLOWED_NETWORKS`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from connectors.base import ActionRequest, CustomerContact
from connectors.email import EmailConnector
from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.netguard import DestinationGuard
from domain.email import EmailSettings, SmtpSecurity, message_id, verify_unsubscribe_token
from runtime.email_sink import EmailSink
from runtime.processes import free_port
from store.database import Store

NOW = 1_780_000_000.0
LOOPBACK_ALLOWED = DestinationGuard(["127.0.0.1/32"])
BASE_URL = "https://journeys.brand.example"


def _request(
    key: str = "t1:j1:c1/mail/1", identities: dict[str, str] | None = None, **params: object
) -> ActionRequest:
    return ActionRequest(
        tenant_id="t1",
        enrollment_id="t1:j1:c1",
        node_id="mail",
        action="send",
        params={
            "subject": "Hi {{ customer.attributes.first_name }}",
            "text": "Dear {{ customer.attributes.first_name }}, hello.",
            **params,
        },
        idempotency_key=key,
        customer=CustomerContact(
            customer_id="c1",
            identities={"email": "lin@shop.example"} if identities is None else identities,
            attributes={"first_name": "Lin"},
        ),
    )


@pytest.fixture
async def sink() -> AsyncIterator[tuple[EmailSink, int]]:
    server = EmailSink()
    async with server.serve() as (_, port):
        yield server, port


async def _configure(
    store: Store, port: int, security: SmtpSecurity = "none", **extra: object
) -> None:
    settings = EmailSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "from_address": "news@brand.example",
            "from_name": "Brand News",
            **extra,
        }
    )
    await store.email.put("t1", settings, datetime.now(UTC))


def _connector(store: Store, **kwargs: object) -> EmailConnector:
    kwargs.setdefault("guard", LOOPBACK_ALLOWED)
    return EmailConnector(store.email, BASE_URL, clock=lambda: NOW, timeout=5.0, **kwargs)  # type: ignore[arg-type]


def _only(sink: EmailSink) -> EmailMessage:
    [received] = sink.received
    return received.message


async def test_the_server_receives_the_rendered_message_with_its_headers(
    store: Store, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    await _configure(store, port, unsubscribe_mailto="unsubscribe@brand.example")
    outcome = await _connector(store).execute(
        _request(html="<p>Dear {{ customer.attributes.first_name }}</p>")
    )

    [received] = server.received
    assert (received.mail_from, received.rcpt_tos) == ("news@brand.example", ["lin@shop.example"])
    message = received.message
    assert message["Subject"] == "Hi Lin"
    assert message["From"] == "Brand News <news@brand.example>"
    assert message["To"] == "lin@shop.example"
    assert message["Message-ID"] == message_id("t1", "t1:j1:c1/mail/1", "brand.example")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link, mailto = (part.strip() for part in message["List-Unsubscribe"].split(","))
    assert mailto == "<mailto:unsubscribe@brand.example?subject=unsubscribe>"
    assert link.startswith(f"<{BASE_URL}/v1/unsubscribe/") and link.endswith(">")
    token = link[len(f"<{BASE_URL}/v1/unsubscribe/") : -1]
    key = await store.email.existing_key("t1")
    assert key is not None
    claim = verify_unsubscribe_token(key, token)
    assert (claim.tenant_id, claim.customer_id, claim.issued_at) == ("t1", "c1", int(NOW))
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().strip() == "Dear Lin, hello."
    assert html.get_content().strip() == "<p>Dear Lin</p>"
    assert outcome.external_id == message["Message-ID"]
    assert outcome.detail["status"] == "sent"
    assert outcome.detail["queue_id"] == received.queue_id


async def test_a_retry_carries_the_same_message_id_and_a_new_visit_another(
    store: Store, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    await _configure(store, port)
    connector = _connector(store)
    await connector.execute(_request())
    await connector.execute(_request())
    await connector.execute(_request(key="t1:j1:c1/mail/2"))
    first, retry, other = (r.message["Message-ID"] for r in server.received)
    assert first == retry != other


async def test_a_login_is_sent_when_configured(store: Store, sink: tuple[EmailSink, int]) -> None:
    server, port = sink
    await _configure(store, port, username="relay-user", password=SecretStr("relay-pass"))
    await _connector(store).execute(_request())
    assert server.logins == [("relay-user", "relay-pass")]


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


async def test_starttls_upgrades_before_sending_and_an_untrusted_certificate_is_permanent(
    store: Store, tmp_path: Path
) -> None:
    server_tls, client_tls = _self_signed(tmp_path)
    sink = EmailSink()
    async with sink.serve(tls=server_tls, require_starttls=True) as (_, port):
        await _configure(store, port, security="starttls")
        await _connector(store, tls_context=client_tls).execute(_request())
        assert len(sink.received) == 1

        with pytest.raises(PermanentChannelError) as untrusted:
            await _connector(store).execute(_request())  # the system CAs do not know it
        assert untrusted.value.code == "smtp_tls"

        await _configure(store, port, security="none")
        with pytest.raises(PermanentChannelError) as plain:
            await _connector(store).execute(_request())  # the server insists on STARTTLS
        assert plain.value.code == "smtp_530"
    assert len(sink.received) == 1


async def test_implicit_tls_speaks_tls_from_the_first_byte(store: Store, tmp_path: Path) -> None:
    server_tls, client_tls = _self_signed(tmp_path)
    sink = EmailSink()
    async with sink.serve(tls=server_tls, implicit_tls=True) as (_, port):
        await _configure(store, port, security="tls")
        await _connector(store, tls_context=client_tls).execute(_request())
        assert len(sink.received) == 1
        await _configure(store, port, security="none")  # plain text to a TLS port
        with pytest.raises(TransientChannelError):
            await _connector(store).execute(_request())
    assert len(sink.received) == 1


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_a_4xx_answer_is_transient_and_names_the_code(
    store: Store, sink: tuple[EmailSink, int], stage: str
) -> None:
    server, port = sink
    await _configure(store, port)
    server.answers[stage].append("451 4.3.0 Temporary local problem for <lin@shop.example>")  # type: ignore[index]
    with pytest.raises(TransientChannelError) as caught:
        await _connector(store).execute(_request())
    assert "451" in caught.value.message and "127.0.0.1" in caught.value.message
    assert "lin@shop.example" not in caught.value.message
    assert server.received == []
    await _connector(store).execute(_request())  # the retry goes through
    assert len(server.received) == 1


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_a_5xx_answer_is_permanent_with_the_smtp_code(
    store: Store, sink: tuple[EmailSink, int], stage: str
) -> None:
    server, port = sink
    await _configure(store, port)
    server.answers[stage].append("550 5.1.1 Mailbox unavailable")  # type: ignore[index]
    with pytest.raises(PermanentChannelError) as caught:
        await _connector(store).execute(_request())
    assert caught.value.code == "smtp_550"
    assert "550 5.1.1 Mailbox unavailable" in caught.value.message
    assert server.received == []


async def test_a_server_that_is_down_is_transient(store: Store) -> None:
    await _configure(store, free_port())
    with pytest.raises(TransientChannelError, match="could not be reached"):
        await _connector(store).execute(_request())


async def test_an_internal_host_is_refused_unless_the_deployment_allows_it(
    store: Store, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    await _configure(store, port)
    with pytest.raises(PermanentChannelError) as caught:
        await _connector(store, guard=DestinationGuard()).execute(_request())
    assert caught.value.code == "destination_not_allowed"
    assert server.received == []


async def test_a_customer_without_an_email_identity_fails_permanently_saying_so(
    store: Store, sink: tuple[EmailSink, int]
) -> None:
    server, port = sink
    await _configure(store, port)
    with pytest.raises(PermanentChannelError, match="no `email` identity") as caught:
        await _connector(store).execute(_request(identities={"phone": "13800138000"}))
    assert caught.value.code == "no_email_identity"
    assert server.received == []


async def test_a_tenant_without_smtp_settings_fails_permanently_saying_so(store: Store) -> None:
    with pytest.raises(PermanentChannelError, match="not configured") as caught:
        await _connector(store).execute(_request())
    assert caught.value.code == "email_not_configured"


async def test_a_server_slow_at_every_step_is_cut_off_by_the_attempts_deadline(
    store: Store,
) -> None:
    """Each answer comes within the per-command timeout, the whole exceeds the deadline."""

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def answer(line: bytes) -> None:
            await asyncio.sleep(0.3)
            writer.write(line)
            await writer.drain()

        try:
            await answer(b"220 slow.example ESMTP\r\n")
            while command := await reader.readline():
                verb = command[:4].upper()
                if verb == b"DATA":
                    await answer(b"354 go ahead\r\n")
                    await reader.readuntil(b"\r\n.\r\n")
                    await answer(b"250 2.0.0 Ok: queued as SLOW1\r\n")
                elif verb == b"QUIT":
                    await answer(b"221 bye\r\n")
                    break
                else:
                    await answer(b"250 ok\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await _configure(store, port)
        connector = EmailConnector(store.email, BASE_URL, LOOPBACK_ALLOWED, timeout=0.9)
        started = time.monotonic()
        with pytest.raises(TransientChannelError):
            await connector.execute(_request())
        assert time.monotonic() - started < 1.5
    finally:
        server.close()
        await server.wait_closed()
