"""The `email` channel: action `send`, one message over the tenant's SMTP server.

`send` (params `connectors.email.params.SendParams`) renders the subject and bodies for the
customer (`connectors.base.render_text`), addresses the customer's `email` identity, and submits
the message through the tenant's SMTP settings (`domain.email.EmailSettings`, from the
`EmailAccounts` port) with `connectors.email.smtp.submit`. The message carries

- `Message-ID`: derived from the tenant and the idempotency key (`domain.email.message_id`), so a
  retry of one node visit is recognisably the same message; it is the outcome's `external_id`;
- `List-Unsubscribe`: `<PUBLIC_BASE_URL/v1/unsubscribe/<token>>` with a signed token
  (`domain.email.sign_unsubscribe_token`, the tenant's key from the port), then the tenant's
  `unsubscribe_mailto` if set; and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).

The server's acceptance is the delivery's success: `detail` holds the SMTP host, the server's
answer and its queue id when the answer names one (`queued as ...`). Without an `email`
identity, or without SMTP settings, the action fails permanently saying so.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from pydantic import SecretStr

from connectors.base import (
    ActionOutcome,
    ActionRequest,
    ActionSpec,
    action_spec,
    parse_params,
    render_text,
)
from connectors.email.message import Envelope, build_message
from connectors.email.params import SendParams
from connectors.email.smtp import submit
from connectors.errors import PermanentChannelError
from connectors.netguard import DestinationGuard
from domain.customers import EMAIL
from domain.email import (
    EMAIL_CHANNEL,
    EmailSettings,
    UnsubscribeClaim,
    message_id,
    sign_unsubscribe_token,
    valid_address,
)

UNSUBSCRIBE_PATH = "/v1/unsubscribe/"


class EmailAccounts(Protocol):
    """What the connector reads per send (`store.email.EmailRecords` satisfies it)."""

    async def get(self, tenant_id: str) -> EmailSettings | None:
        """The tenant's SMTP settings, or None."""
        ...

    async def unsubscribe_key(self, tenant_id: str, now: datetime) -> SecretStr:
        """The tenant's unsubscribe-token key, made on first need."""
        ...


def unsubscribe_url(public_base_url: str, token: str) -> str:
    """The one-click link for `token` under the API's public base URL."""
    return public_base_url.rstrip("/") + UNSUBSCRIBE_PATH + token


class EmailConnector:
    """The `email` channel. `guard` decides which SMTP hosts may be reached (default: public
    addresses only); `tls_context` replaces the default certificate checks (tests, private CAs)."""

    name = EMAIL_CHANNEL

    def __init__(
        self,
        accounts: EmailAccounts,
        public_base_url: str,
        guard: DestinationGuard | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._accounts = accounts
        self._base_url = public_base_url
        self.guard = guard or DestinationGuard()
        self._tls_context = tls_context
        self._timeout = timeout
        self._clock = clock
        self.actions: Mapping[str, ActionSpec] = {
            "send": ActionSpec(
                "send", SendParams, "Send an e-mail to the customer's `email` identity."
            ),
        }

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate, render, then submit once; errors as `connectors.email.smtp` maps them."""
        spec = action_spec(self.name, self.actions, request.action)
        params = parse_params(self.name, spec.name, SendParams, request.params)
        raw = request.customer.identities.get(EMAIL)
        if raw is None:
            raise PermanentChannelError(
                "the customer has no `email` identity to send to", code="no_email_identity"
            )
        try:
            recipient = valid_address(raw)
        except ValueError:
            raise PermanentChannelError(
                "the customer's `email` identity is not a deliverable address",
                code="invalid_recipient",
            ) from None
        settings = await self._accounts.get(request.tenant_id)
        if settings is None:
            raise PermanentChannelError(
                "e-mail is not configured for this tenant (configureEmail)",
                code="email_not_configured",
            )
        now = datetime.fromtimestamp(self._clock(), UTC)
        key = await self._accounts.unsubscribe_key(request.tenant_id, now)
        token = sign_unsubscribe_token(
            key,
            UnsubscribeClaim(request.tenant_id, request.customer.customer_id, int(now.timestamp())),
        )
        envelope = Envelope(
            from_address=settings.from_address,
            from_name=params.from_name or settings.from_name,
            to=recipient,
            subject=render_text(request, params.subject),
            message_id=message_id(
                request.tenant_id,
                request.idempotency_key,
                settings.from_address.rpartition("@")[2],
            ),
            sent_at=now,
            unsubscribe_url=unsubscribe_url(self._base_url, token),
            unsubscribe_mailto=settings.unsubscribe_mailto,
        )
        html = render_text(request, params.html) if params.html is not None else None
        message = build_message(envelope, render_text(request, params.text), html)
        receipt = await submit(
            settings,
            message,
            recipient,
            guard=self.guard,
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
        detail: dict[str, str] = {"status": "sent", "smtp_host": settings.host}
        detail["response"] = receipt.response
        if receipt.queue_id is not None:
            detail["queue_id"] = receipt.queue_id
        return ActionOutcome(external_id=envelope.message_id, detail=detail)
