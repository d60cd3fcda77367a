"""Bearer API keys: who is calling (a `Principal`) and what their role lets them do.

A request carries `Authorization: Bearer oj_<prefix>_<secret>`; the key is looked up by its hash
(`store.tenants.authenticate`) and never logged or echoed back. Roles map onto permissions:

| role      | may                                                                     |
|-----------|-------------------------------------------------------------------------|
| admin     | everything, and alone: manage channel connections (WeCom)               |
| designer  | read; create, edit, publish and archive journeys                        |
| operator  | read; ingest events; enroll customers; pause/resume/cancel; set consent |
| viewer    | read                                                                    |

Only admin keys manage keys (`apiKeys`, `createApiKey`, `revokeApiKey`): that is
`MANAGE_API_KEYS`, which no other role has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.tenants import ApiKeyRole
from store.tenants import TenantRepository


class Permission(StrEnum):
    """Something a key may be allowed to do."""

    READ = "read"
    EDIT_JOURNEYS = "edit_journeys"
    INGEST_EVENTS = "ingest_events"
    MANAGE_ENROLLMENTS = "manage_enrollments"
    MANAGE_CUSTOMERS = "manage_customers"
    """Record customers' consent per channel (`setCustomerConsent`)."""
    MANAGE_CHANNELS = "manage_channels"
    """Connect channels and read their settings (e.g. the tenant's WeCom corp); admin only."""
    MANAGE_API_KEYS = "manage_api_keys"
    """List, create and revoke the tenant's API keys; admin only."""


ROLE_PERMISSIONS: dict[ApiKeyRole, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "designer": frozenset({Permission.READ, Permission.EDIT_JOURNEYS}),
    "operator": frozenset(
        {
            Permission.READ,
            Permission.INGEST_EVENTS,
            Permission.MANAGE_ENROLLMENTS,
            Permission.MANAGE_CUSTOMERS,
        }
    ),
    "viewer": frozenset({Permission.READ}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the tenant it acts for, its role, and the id (never the secret) of its key."""

    tenant_id: str
    role: ApiKeyRole
    key_id: str

    def can(self, permission: Permission) -> bool:
        """Whether this principal's role grants `permission`."""
        return permission in ROLE_PERMISSIONS[self.role]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when absent or malformed."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


async def authenticate(
    tenants: TenantRepository, authorization: str | None, now: datetime | None = None
) -> Principal | None:
    """The principal of an `Authorization` header value, or None (missing, unknown, revoked,
    expired). Records the key's use (`TenantRepository.touch`: at most a write a minute)."""
    token = bearer_token(authorization)
    if token is None:
        return None
    now = now or datetime.now(UTC)
    key = await tenants.authenticate(token, now)
    if key is None or not key.usable_at(now):
        return None
    await tenants.touch(key, now)
    return Principal(tenant_id=key.tenant_id, role=key.role, key_id=key.id)
