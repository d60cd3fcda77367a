"""A tenant's SMTP settings as admins set them (`configureEmail`, `clearEmailSettings`).

The host must be one the deployment lets the worker connect to: `hosts` is the e-mail channel's
destination policy (`connectors.netguard.DestinationGuard` with `EMAIL_ALLOWED_NETWORKS`, passed
in by the runtime), asked without DNS here; the connector checks the resolved addresses again at
every connection. The password goes to whatever host is set, so a new host or username must come
with the password again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import SecretStr, ValidationError

from api.services.ports import Clock, utc_now
from domain.email import EmailSettings, SmtpSecurity
from domain.errors import InvalidInputError
from store.database import Store


class HostPolicy(Protocol):
    """Which SMTP hosts may be configured (`DestinationGuard` satisfies it)."""

    def literal_refusal(self, host: str) -> str | None:
        """Why `host` may not be reached, judged without DNS; None if it may."""
        ...


@dataclass(frozen=True, slots=True)
class EmailSettingsInput:
    """The settings as an admin gives them; an omitted password keeps the stored one."""

    host: str
    port: int
    from_address: str
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: str | None = None
    from_name: str | None = None
    unsubscribe_mailto: str | None = None


class EmailSettingsService:
    """Stores a tenant's SMTP settings; callers show `EmailSettings.public()` only."""

    def __init__(self, store: Store, hosts: HostPolicy | None = None, clock: Clock = utc_now):
        self._store = store
        self._hosts = hosts
        self._clock = clock

    async def get(self, tenant_id: str) -> EmailSettings | None:
        """The tenant's settings, or None."""
        return await self._store.email.get(tenant_id)

    async def configure(self, tenant_id: str, given: EmailSettingsInput) -> EmailSettings:
        """Create or replace the settings; `InvalidInputError` names each bad field."""
        existing = await self._store.email.get(tenant_id)
        data: dict[str, Any] = {
            "host": given.host,
            "port": given.port,
            "security": given.security,
            "username": given.username or None,
            "from_address": given.from_address,
            "from_name": given.from_name or None,
            "unsubscribe_mailto": given.unsubscribe_mailto or None,
        }
        if given.password:
            data["password"] = SecretStr(given.password)
        elif data["username"] is not None:
            if (
                existing is None
                or existing.host != given.host.strip().rstrip(".").lower()
                or existing.username != data["username"]
            ):
                raise InvalidInputError.single("password", "required with a new username or host")
            data["password"] = existing.password
        try:
            settings = EmailSettings.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc) from exc
        refusal = self._hosts.literal_refusal(settings.host) if self._hosts else None
        if refusal is not None:
            raise InvalidInputError.single(
                "host", f"not allowed: {settings.host} is {refusal} (see EMAIL_ALLOWED_NETWORKS)"
            )
        await self._store.email.put(tenant_id, settings, self._clock())
        return settings

    async def clear(self, tenant_id: str) -> bool:
        """Forget the settings (sends then fail as not configured); whether there were any."""
        return await self._store.email.delete(tenant_id)
