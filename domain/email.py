"""The e-mail channel's rules: a tenant's SMTP settings, message ids, one-click unsubscribe tokens.

Settings (`EmailSettings`, stored in `channel_settings` under kind `email`): the SMTP server
(`host`, `port`, `security`: `starttls` upgrades a plain connection, `tls` is TLS from the first
byte (port 465), `none` never encrypts and is for local relays only), the login (`username`,
`password`, both or neither) and the sender (`from_address`, `from_name`). `public()` is the
only view the API returns: the password shows as set or not.

Message ids: `message_id(tenant, key, domain)` hashes the tenant and the delivery's idempotency
key, so every retry of one node visit carries the same `Message-ID` and a receiving system (or a
person reading headers) recognises it as the same message.

Unsubscribe tokens (RFC 8058 one-click links): a token is three base64url segments (no padding),

    <tenant>.<claim>.<signature>

`tenant` is the tenant id's UTF-8, `claim` the compact JSON `{"c": customer_id, "ch": "email",
"iat": issued_at_unix_seconds, "t": tenant_id}` (keys sorted), and `signature` the HMAC-SHA256,
under the tenant's unsubscribe key, of the ASCII text `<tenant>.<claim>` (the first two segments
exactly as they appear). The tenant segment is read only to choose the key; the claim is parsed
only after the signature matched, and must name the same tenant. Tokens do not expire: a link in
a years-old message must still unsubscribe (RFC 8058 asks links to keep working).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

EMAIL_CHANNEL = "email"
SETTINGS_KIND = "email"
"""The `channel_settings` kind of a tenant's SMTP settings."""
UNSUBSCRIBE_KEY_KIND = "email.unsubscribe"
"""The `channel_settings` kind of a tenant's unsubscribe-token key."""
UNSUBSCRIBED_EVENT = "email.unsubscribed"
BOUNCED_EVENT = "email.bounced"

SmtpSecurity = Literal["starttls", "tls", "none"]
"""How the SMTP connection is protected: STARTTLS upgrade, implicit TLS, or not at all."""

MAX_TOKEN_LENGTH = 1024
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_HEADER_TEXT = re.compile(r"^[^\r\n\x00]*$")


def valid_address(value: str) -> str:
    """`value` stripped if it is a plain `local@domain.tld` address, else `ValueError`."""
    address = value.strip()
    if not _ADDRESS.match(address) or len(address) > 254:
        raise ValueError("must be an e-mail address like name@example.com")
    return address


class EmailSettings(BaseModel):
    """One tenant's SMTP server and sender."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1, max_length=253, description="The SMTP server's host name.")
    port: int = Field(ge=1, le=65535, description="587 (starttls), 465 (tls) or 25.")
    security: SmtpSecurity = "starttls"
    username: str | None = Field(default=None, max_length=256)
    password: SecretStr | None = None
    from_address: str = Field(description="The envelope sender and `From` address.")
    from_name: str | None = Field(default=None, max_length=128)
    unsubscribe_mailto: str | None = Field(
        default=None,
        description="An address that unsubscribes whoever writes to it, listed in "
        "`List-Unsubscribe` beside the https link; None: the link only.",
    )

    @field_validator("from_address", "unsubscribe_mailto")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else valid_address(value)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        host = value.strip().rstrip(".").lower()
        if not re.fullmatch(r"[a-z0-9._:\[\]-]+", host):
            raise ValueError("must be a host name or an IP address")
        return host

    @field_validator("from_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and not _HEADER_TEXT.match(value):
            raise ValueError("must be one line")
        return value

    @model_validator(mode="after")
    def _login_pairs(self) -> EmailSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        return self

    def public(self) -> dict[str, Any]:
        """The settings without the password (only whether one is set)."""
        data = self.model_dump(exclude={"password"})
        data["password_set"] = self.password is not None
        return data


class UnsubscribeKey(BaseModel):
    """A tenant's key signing unsubscribe tokens (made on first need, never shown)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret: SecretStr


def new_unsubscribe_key() -> UnsubscribeKey:
    """A fresh 256-bit key."""
    return UnsubscribeKey(secret=SecretStr(secrets.token_urlsafe(32)))


def message_id(tenant_id: str, idempotency_key: str, domain: str) -> str:
    """`<hex@domain>`: the same for every send of one delivery (module docstring)."""
    digest = hashlib.sha256(f"{tenant_id}\x00{idempotency_key}".encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class UnsubscribeClaim:
    """What a verified token says: this tenant's customer asked to stop e-mails."""

    tenant_id: str
    customer_id: str
    issued_at: int
    channel: str = EMAIL_CHANNEL


class InvalidTokenError(ValueError):
    """The token is malformed, forged or altered; the message says which, never the key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise InvalidTokenError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTokenError("not base64url") from None


def _signature(key: SecretStr, signed: str) -> bytes:
    return hmac.new(
        key.get_secret_value().encode(), signed.encode("ascii"), hashlib.sha256
    ).digest()


def sign_unsubscribe_token(key: SecretStr, claim: UnsubscribeClaim) -> str:
    """The token for `claim` under the tenant's `key` (module docstring)."""
    body = json.dumps(
        {"c": claim.customer_id, "ch": claim.channel, "iat": claim.issued_at, "t": claim.tenant_id},
        separators=(",", ":"),
        sort_keys=True,
    )
    signed = f"{_b64(claim.tenant_id.encode())}.{_b64(body.encode())}"
    return f"{signed}.{_b64(_signature(key, signed))}"


def token_tenant(token: str) -> str:
    """The tenant a token claims to be for (unverified: only to choose the key)."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_LENGTH or len(parts) != 3:
        raise InvalidTokenError("not an unsubscribe token")
    try:
        tenant = _unb64(parts[0]).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidTokenError("not an unsubscribe token") from None
    if not tenant:
        raise InvalidTokenError("not an unsubscribe token")
    return tenant


def verify_unsubscribe_token(key: SecretStr, token: str) -> UnsubscribeClaim:
    """The claim of `token` if `key` signed it, else `InvalidTokenError` (nothing parsed first)."""
    tenant = token_tenant(token)
    head, body, signature = token.split(".")
    if not hmac.compare_digest(_unb64(signature), _signature(key, f"{head}.{body}")):
        raise InvalidTokenError("the signature does not match")
    try:
        data = json.loads(_unb64(body))
        claim = UnsubscribeClaim(
            tenant_id=str(data["t"]),
            customer_id=str(data["c"]),
            issued_at=int(data["iat"]),
            channel=str(data["ch"]),
        )
    except (ValueError, KeyError, TypeError):
        raise InvalidTokenError("the claim is malformed") from None
    if claim.tenant_id != tenant or claim.channel != EMAIL_CHANNEL or not claim.customer_id:
        raise InvalidTokenError("the claim does not match the token")
    return claim
