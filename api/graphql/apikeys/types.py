"""The API key types: a key as listed (never its secret) and a new key with its secret."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.graphql.common import described_values
from domain.tenants import ApiKey as ApiKeyModel
from domain.tenants import ApiKeyRole as ApiKeyRoleName


@described_values(
    ADMIN="Everything, and alone: channel connections and API keys.",
    DESIGNER="Read; create, edit, publish and archive journeys and hooks.",
    OPERATOR="Read; ingest events; enroll customers; pause, resume and cancel enrollments.",
    VIEWER="Read only.",
)
@strawberry.enum(description="What a key may do.")
class ApiKeyRole(Enum):
    """What a key may do."""

    ADMIN = "admin"
    DESIGNER = "designer"
    OPERATOR = "operator"
    VIEWER = "viewer"

    @property
    def role(self) -> ApiKeyRoleName:
        """The domain's name of this role."""
        return _ROLES[self.value]


_ROLES: dict[str, ApiKeyRoleName] = {
    "admin": "admin",
    "designer": "designer",
    "operator": "operator",
    "viewer": "viewer",
}


@strawberry.type(
    description="An API key of the tenant, as admins see it: who it is and what it may do, "
    "never its secret (shown once, at creation)."
)
class ApiKey:
    """An API key of the tenant, never its secret."""

    id: strawberry.ID = strawberry.field(description="The key's id (`key_...`), to revoke it.")
    name: str = strawberry.field(description="What the key is for, e.g. `ops console`.")
    role: ApiKeyRole = strawberry.field(description="What the key may do.")
    prefix: str = strawberry.field(
        description="The 8 characters after `oj_` in the raw key, to tell keys apart; not secret."
    )
    created_at: datetime = strawberry.field(description="When the key was issued.")
    expires_at: datetime | None = strawberry.field(
        description="From this time on the key authenticates as nothing (HTTP 401); null: never."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When the key last authenticated, to within a minute (it is recorded at "
        "most once a minute per key); null: never used."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When the key was revoked; null while it is not."
    )
    usable: bool = strawberry.field(
        description="Whether the key authenticates now: neither revoked nor expired."
    )

    @classmethod
    def of(cls, key: ApiKeyModel, now: datetime) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            role=ApiKeyRole(key.role),
            prefix=key.prefix,
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            usable=key.usable_at(now),
        )


@strawberry.type(
    description="A key just issued, with its secret: store `secret` now, it is never shown again "
    "(only its hash is kept)."
)
class CreatedApiKey:
    """A key just issued, with its secret (shown this once)."""

    api_key: ApiKey = strawberry.field(description="The key as `apiKeys` lists it.")
    secret: str = strawberry.field(
        description="The whole key, `oj_<prefix>_<secret>`, to send as `Authorization: Bearer "
        "...`; shown only in this answer."
    )
