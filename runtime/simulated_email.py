"""A local SMTP sink connected to a tenant: the e-mail channel's stand-in for `omnijourney run`.

The sink (`runtime.email_sink`, aiosmtpd from the `embedded` extra) listens on 127.0.0.1 in this
process and logs each message it accepts; the tenant's e-mail settings are set to it (plain SMTP,
no login) through the service behind `configureEmail`, so `email.send` actions deliver there.
Loopback is not an SMTP destination by default: `with_sink_allowed` adds 127.0.0.1/32 to
EMAIL_ALLOWED_NETWORKS for the process that runs the sink.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.services.email_settings import EmailSettingsInput, EmailSettingsService
from runtime.settings import Settings
from store.database import Store

if TYPE_CHECKING:  # aiosmtpd is imported only where the sink runs
    from runtime.email_sink import EmailSink

SINK_HOST = "127.0.0.1"
DEMO_FROM = "news@demo-brand.example"


@dataclass(frozen=True)
class SimulatedMailbox:
    """The running sink (its received messages) and where it listens."""

    sink: EmailSink
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{SINK_HOST}:{self.port}"


def with_sink_allowed(settings: Settings) -> Settings:
    """`settings` with the sink's address allowed as an SMTP destination."""
    networks = [*settings.email_allowed_networks, f"{SINK_HOST}/32"]
    return settings.model_copy(update={"email_allowed_networks": networks})


@contextlib.asynccontextmanager
async def simulated_email(store: Store, tenant_id: str) -> AsyncIterator[SimulatedMailbox]:
    """Serve a sink and point `tenant_id`'s e-mail settings at it until the block ends."""
    from runtime.email_sink import EmailSink  # aiosmtpd: the `embedded` extra

    sink = EmailSink(log_received=True)
    async with sink.serve(host=SINK_HOST) as (_, port):
        await EmailSettingsService(store).configure(
            tenant_id,
            EmailSettingsInput(
                host=SINK_HOST,
                port=port,
                security="none",
                from_address=DEMO_FROM,
                from_name="Demo Brand",
            ),
        )
        yield SimulatedMailbox(sink, port)
