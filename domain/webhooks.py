"""Webhook signing secrets: one per tenant, rotated with an overlap window.

A tenant signs its outgoing webhooks with its current secret. Rotating makes a new current
secret; the one it replaces keeps signing too (a second signature on each delivery) until the
overlap window ends, so receivers can switch without dropping deliveries. Only the metadata
(`WebhookSecretInfo`) is ever shown; the secret itself once, when it is made.
"""

from __future__ import annotations

import secrets
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
