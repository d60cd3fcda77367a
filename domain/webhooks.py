"""Webhook signing secrets: one per tenant, rotated with an overlap window.

A tenant signs its outgoing webhooks with its current secret. Rotating makes a new current
secret; the one it replaces keeps signing too (a second signature on each delivery) until the
overlap window ends, so receivers can switch without dropping deliveries. Only the metadata
(`WebhookSecretInfo`) is ever shown; the secret itself once, when it is made.

`sign` and `verify_signature` are the scheme (`X-Omnijourney-Signature: sha256=<hex>` of
HMAC-SHA256 over `<timestamp>.<body>`, described in `connectors.webhook`): the webhook connector
signs with it, and reports sent to us signed the same way (e-mail bounces) are verified with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, SecretStr

from domain.errors import InvalidInputError

DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix marking the kind, not a secret


def new_webhook_secret() -> str:
    """A fresh random signing secret (256 bits, URL-safe, prefixed `whsec_`)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_overlap(overlap: timedelta, path: str = "overlapHours") -> timedelta:
    """`overlap` if within 0 and `MAX_OVERLAP`, else `InvalidInputError`."""
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        hours = int(MAX_OVERLAP.total_seconds() // 3600)
        raise InvalidInputError.single(path, f"must be between 0 and {hours} hours")
    return overlap


class WebhookSecretInfo(BaseModel):
    """What may be shown of a tenant's signing secret: when it was made, and until when the
    one it replaced still signs (None: no overlap)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    created_at: datetime
    previous_valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class TenantSigningSecrets:
    """A tenant's current secret and, during an overlap, the one it replaced."""

    current: SecretStr
    previous: SecretStr | None = None
    previous_valid_until: datetime | None = None

    def valid_at(self, now: datetime) -> list[SecretStr]:
        """The secrets that sign a delivery sent at `now`, current first."""
        found = [self.current]
        if (
            self.previous is not None
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        ):
            found.append(self.previous)
        return found


def sign(secret: SecretStr | str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`: `sha256=<hex>`."""
    key = (secret.get_secret_value() if isinstance(secret, SecretStr) else secret).encode()
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: SecretStr | str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether any signature the header `signature` lists (`sha256=<hex>,sha256=<hex>`) signs
    `body` at `timestamp` with `secret`, and the timestamp is within `tolerance` seconds of
    `now` (default: the current time). For receivers of webhook deliveries."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    listed = [part.strip() for part in signature.split(",")]
    # Every listed one is compared, so the time taken does not tell which matched.
    matches = [hmac.compare_digest(expected, candidate) for candidate in listed]
    return any(matches)
