"""Tenants (one brand each) and the API keys that act for them.

An API key is `oj_<prefix>_<secret>`. The whole key is shown once, when it is created; only its
SHA-256 hash is stored. The `prefix` is stored in clear so people can tell their keys apart.
A key may carry an expiry (`expires_at`): from then on it authenticates as nothing, like a revoked
one. `last_used_at` is kept at `LAST_USED_GRANULARITY`: authenticating writes it only when the
stored time is older than that, so a busy key costs one write a minute, not one per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

ApiKeyRole = Literal["admin", "designer", "operator", "viewer"]
"""What a key may do: `admin` everything; `designer` edit and publish journeys; `operator` ingest
events and manage enrollments; `viewer` read only."""

KEY_PREFIX_LENGTH = 8
LAST_USED_GRANULARITY = timedelta(minutes=1)
"""How stale a key's `last_used_at` may get: it is rewritten at most once per this interval."""


class Tenant(BaseModel):
    """A brand using omnijourney; every other record belongs to exactly one tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Asia/Shanghai"
    created_at: AwareDatetime

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ApiKey(BaseModel):
    """A stored API key: never holds the secret, only who it is and what it may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tenant_id: str
    name: str = Field(min_length=1, max_length=200)
    role: ApiKeyRole
    prefix: str
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    """From this time on the key authenticates as nothing; None: it never expires."""
    last_used_at: AwareDatetime | None = None
    """When the key last authenticated, to within `LAST_USED_GRANULARITY`; None: never."""

    @model_validator(mode="after")
    def _expires_after_creation(self) -> ApiKey:
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise ValueError("expires_at must be after the key's creation")
        return self

    @property
    def active(self) -> bool:
        """Not revoked (it may still have expired: see `usable_at`)."""
        return self.revoked_at is None

    def expired_at(self, now: datetime) -> bool:
        """Whether the key's expiry has passed at `now`."""
        return self.expires_at is not None and self.expires_at <= now

    def usable_at(self, now: datetime) -> bool:
        """Whether the key authenticates at `now`: neither revoked nor expired."""
        return self.active and not self.expired_at(now)

    def last_used_is_stale(self, now: datetime) -> bool:
        """Whether `last_used_at` should be rewritten for a use at `now`."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_GRANULARITY


def generate_api_key() -> tuple[str, str]:
    """A new `(prefix, raw_key)`; the raw key is `oj_<prefix>_<secret>`."""
    prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    return prefix, f"oj_{prefix}_{secret}"


def hash_api_key(raw_key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def key_prefix(raw_key: str) -> str | None:
    """The prefix of a well-formed raw key, or None when it is not shaped like one."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "oj" or len(parts[1]) != KEY_PREFIX_LENGTH or not parts[2]:
        return None
    return parts[1]
