"""Signing webhook deliveries: the tenant's secrets (a port), the signature, and its check for
receivers (the scheme: `connectors.webhook`'s docstring)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import SecretStr

SIGNATURE_HEADER = "X-Omnijourney-Signature"
TIMESTAMP_HEADER = "X-Omnijourney-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class SigningSecrets(Protocol):
    """Where the connector gets a tenant's signing secrets at send time (a port)."""

    async def signing_secrets(self, tenant_id: str, now: datetime) -> Sequence[SecretStr]:
        """The secrets that sign `tenant_id`'s delivery sent at `now`, current first; at
        least one."""
        ...


class FixedSigningSecrets:
    """The same secrets for every tenant (tools and tests)."""

    def __init__(self, *secrets: SecretStr) -> None:
        self._secrets = list(secrets)

    async def signing_secrets(self, tenant_id: str, now: datetime) -> Sequence[SecretStr]:
        """The given secrets, whatever the tenant and time."""
        return self._secrets


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
