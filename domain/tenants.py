"""Tenants (one brand each) and the API keys that act for them.

An API key is `oj_<prefix>_<secret>`. The whole key is shown once, when it is created; only its
SHA-256 hash is stored. The `prefix` is stored in clear so people can tell their keys apart.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

ApiKeyRole = Literal["admin", "designer", "operator", "viewer"]
"""What a key may do: `admin` everything; `designer` edit and publish journeys; `operator` ingest
events and manage enrollments; `viewer` read only."""

KEY_PREFIX_LENGTH = 8


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

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


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
