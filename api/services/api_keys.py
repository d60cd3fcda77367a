"""API key management for a tenant's admins: list, issue (the secret shown once), revoke.

Decisions:
- A key may revoke itself (a leaked admin key can be killed with itself), but never the tenant's
  last usable admin key: that answers `ConflictError` (create another admin key first), so a tenant
  cannot lock itself out by accident. The CLI (`omnijourney revoke-api-key --allow-last-admin`)
  can, since whoever runs it can also issue a new key.
- Another tenant's key is `NotFoundError`, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from api.services.ports import Clock, utc_now
from domain.errors import InvalidInputError
from domain.tenants import ApiKey, ApiKeyRole
from store.tenants import TenantRepository


class ApiKeyService:
    """The tenant's API keys, over the tenant repository."""

    def __init__(self, tenants: TenantRepository, clock: Clock = utc_now) -> None:
        self._tenants = tenants
        self._clock = clock

    def now(self) -> datetime:
        """The service's clock: what "expired" is judged against in the keys' views."""
        return self._clock()

    async def of_tenant(self, tenant_id: str, *, include_revoked: bool = True) -> list[ApiKey]:
        """The tenant's keys, oldest first (never their secrets)."""
        keys = await self._tenants.list_api_keys(tenant_id)
        return keys if include_revoked else [key for key in keys if key.active]

    async def create(
        self, tenant_id: str, name: str, role: ApiKeyRole, expires_at: datetime | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its raw form (shown once). `InvalidInputError` for a blank or too long
        name, or an expiry that is not in the future or has no time zone."""
        now = self._clock()
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise InvalidInputError.single("input.expiresAt", "give a time zone, e.g. `Z`")
            if expires_at <= now:
                raise InvalidInputError.single("input.expiresAt", "must be in the future")
        try:
            return await self._tenants.create_api_key(tenant_id, name, role, now, expires_at)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc, prefix="input") from exc

    async def revoke(self, tenant_id: str, key_id: str, *, keep_last_admin: bool = True) -> ApiKey:
        """Revoke the key (idempotent). `NotFoundError` for another tenant's or an unknown key;
        `ConflictError` for the tenant's last usable admin key (unless `keep_last_admin` is
        off, as the CLI's `--allow-last-admin` turns it)."""
        return await self._tenants.revoke_api_key(
            tenant_id, key_id, self._clock(), keep_last_admin=keep_last_admin
        )
