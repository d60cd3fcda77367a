"""What comes back from e-mail: one-click unsubscribes (RFC 8058) and bounce reports.

Unsubscribe (`/v1/unsubscribe/<token>`): the token (`domain.email`) is verified with the key of
the tenant it names; only then is its claim read. `unsubscribe` opts the customer (followed
through merges) out of `email` and records an `email.unsubscribed` event for them (de-duplicated
per token, so a client that POSTs twice records one), which journeys and metrics see like any
other event. `check` only verifies: the confirmation page a GET shows changes nothing.

Bounces (`POST /v1/webhooks/email/<tenant_id>/bounces`): the body is signed like the webhooks
the tenant receives from us, with the same per-tenant secret (`rotateWebhookSecret`):
`X-Omnijourney-Timestamp: <unix seconds>` and `X-Omnijourney-Signature: sha256=<hex>`, the
HMAC-SHA256 of `<timestamp>.<raw body>`; within 5 minutes of our clock (the order webhook's
scheme, `domain.sources.signatures.order_verified`, keyed with the webhook secret, current and
overlapping ones). The signature is checked before the body is read as JSON:

    {"id": "<the reporter's id, de-duplicates>", "recipient": "<address>",
     "kind": "hard" | "soft" | "complaint", "message_id": "<Message-ID>" (optional),
     "reason": "<diagnostic text>" (optional), "occurred_at": "<ISO time>" (optional)}

It becomes one `email.bounced` event of the customer known by that `email` identity, with
`kind`, `message_id` and `reason` as properties.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from api.services.ports import Clock, utc_now
from domain.customers import EMAIL
from domain.email import (
    BOUNCED_EVENT,
    EMAIL_CHANNEL,
    UNSUBSCRIBED_EVENT,
    InvalidTokenError,
    UnsubscribeClaim,
    token_tenant,
    verify_unsubscribe_token,
)
from domain.errors import DomainError, InvalidInputError
from domain.sources import signatures
from ingestion.results import IngestResult
from ingestion.service import IngestService
from store.database import Store


class UnsubscribeRejectedError(DomainError):
    """The link's token is not one this server issued (forged, altered or malformed)."""


class BounceRejectedError(DomainError):
    """The bounce report's signature or timestamp does not verify."""


class BounceReport(BaseModel):
    """One bounce (or complaint) report (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=100)
    recipient: str = Field(min_length=3, max_length=254)
    kind: Literal["hard", "soft", "complaint"]
    message_id: str | None = Field(default=None, max_length=998)
    reason: str | None = Field(default=None, max_length=1000)
    occurred_at: AwareDatetime | None = None


def _event_id(prefix: str, value: str) -> str:
    return f"{prefix}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


class EmailInboundService:
    """Unsubscribes and bounces, each verified before anything is read or changed."""

    def __init__(self, store: Store, ingest: IngestService, clock: Clock = utc_now) -> None:
        self._store = store
        self._ingest = ingest
        self._clock = clock

    async def check(self, token: str) -> UnsubscribeClaim:
        """The token's claim if this server signed it, else `UnsubscribeRejectedError`."""
        try:
            tenant_id = token_tenant(token)
            key = await self._store.email.existing_key(tenant_id)
            if key is None:
                raise InvalidTokenError("no key for that tenant")
            return verify_unsubscribe_token(key, token)
        except InvalidTokenError as exc:
            raise UnsubscribeRejectedError(f"not a valid unsubscribe link: {exc}") from exc

    async def unsubscribe(self, token: str) -> UnsubscribeClaim:
        """Verify, opt the customer out of e-mail and record `email.unsubscribed`."""
        claim = await self.check(token)
        now = self._clock()
        customer = await self._store.customers.get(claim.tenant_id, claim.customer_id)
        await self._opt_out(claim.tenant_id, customer.id, now)
        email = customer.identity(EMAIL)
        identity = (
            {EMAIL: email}
            if email is not None
            else {customer.identities[0].kind: customer.identities[0].value}
        )
        await self._ingest.store_then_route_later(
            claim.tenant_id,
            [
                {
                    "id": _event_id("email.unsubscribed", token),
                    "type": UNSUBSCRIBED_EVENT,
                    "identity": identity,
                    "timestamp": now.isoformat(),
                    "properties": {"channel": EMAIL_CHANNEL, "method": "one_click"},
                }
            ],
        )
        return claim

    async def _opt_out(self, tenant_id: str, customer_id: str, now: datetime) -> None:
        # The one place an unsubscribe changes consent.
        await self._store.customers.set_consent(
            tenant_id, customer_id, EMAIL_CHANNEL, False, now, source="email_unsubscribe"
        )

    async def receive_bounce(
        self, tenant_id: str, timestamp: str, signature: str, body: bytes
    ) -> IngestResult:
        """Verify the signature, then parse and ingest the report as `email.bounced`."""
        now = self._clock()
        if await self._store.webhook_secrets.info(tenant_id) is None:
            raise BounceRejectedError("the signature does not verify")
        secrets = (await self._store.webhook_secrets.signing_secrets(tenant_id, now)).valid_at(now)
        keys = [secret.get_secret_value() for secret in secrets]
        # The order webhook's scheme (`domain.sources.signatures`), keyed with the webhook secret.
        if not signatures.order_verified(keys, timestamp, body, signature, now.timestamp()):
            raise BounceRejectedError("the signature does not verify")
        try:
            report = BounceReport.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            if isinstance(exc, ValidationError):
                raise InvalidInputError.from_validation_error(exc) from exc
            raise InvalidInputError.single("(body)", "not JSON") from exc
        properties: dict[str, Any] = {"kind": report.kind}
        if report.message_id is not None:
            properties["message_id"] = report.message_id
        if report.reason is not None:
            properties["reason"] = report.reason
        [result] = await self._ingest.ingest(
            tenant_id,
            [
                {
                    "id": _event_id("email.bounced", report.id),
                    "type": BOUNCED_EVENT,
                    "identity": {EMAIL: report.recipient},
                    "timestamp": (report.occurred_at or now).isoformat(),
                    "properties": properties,
                }
            ],
        )
        if result.errors:
            raise InvalidInputError(result.errors)
        return result
