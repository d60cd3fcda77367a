"""A tenant's WeCom connection (corp, secrets, callback id) as admins set it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, ValidationError

from domain.channels import MassMessageLimit, WeComCredentials, new_callback_id
from domain.errors import DomainError, InvalidInput
from store.database import Store


class WeComNotConfigured(DomainError):
    """This server, or this tenant, has no WeCom connection to use."""


@dataclass(frozen=True, slots=True)
class WeComSettingsInput:
    """A tenant's WeCom connection as an admin sets it; omitted secrets keep their values."""

    corp_id: str
    agent_id: str | None = None
    secret: str | None = None
    callback_token: str | None = None
    encoding_aes_key: str | None = None
    base_url: str | None = None
    mass_message_limit: MassMessageLimit | None = None


class WeComSettingsService:
    """Stores a tenant's WeCom credentials; answers only their public view."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant_id: str) -> WeComCredentials | None:
        """The tenant's credentials, or None (callers show `public()` only)."""
        return await self._store.wecom_credentials.get(tenant_id)

    async def configure(self, tenant_id: str, settings: WeComSettingsInput) -> WeComCredentials:
        """Create or change the connection; the callback id is kept once made."""
        existing = await self._store.wecom_credentials.get(tenant_id)
        data: dict[str, Any] = {
            "tenant_id": tenant_id,
            "corp_id": settings.corp_id.strip(),
            "agent_id": settings.agent_id,
            "callback_id": existing.callback_id if existing else new_callback_id(),
        }
        missing = []
        for name in ("secret", "callback_token", "encoding_aes_key"):
            value: str | None = getattr(settings, name)
            if value is not None:
                data[name] = SecretStr(value)
            elif existing is not None:
                data[name] = getattr(existing, name)
            else:
                missing.append(name)
        if missing:
            raise InvalidInput.single(
                ", ".join(missing), "required when WeCom is configured the first time"
            )
        if settings.base_url is not None:
            data["base_url"] = settings.base_url
        elif existing is not None:
            data["base_url"] = existing.base_url
        if settings.mass_message_limit is not None:
            data["mass_message_limit"] = settings.mass_message_limit
        elif existing is not None:
            data["mass_message_limit"] = existing.mass_message_limit
        try:
            credentials = WeComCredentials.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput.from_validation_error(exc) from exc
        await self._store.wecom_credentials.put(credentials)
        return credentials
