"""A tenant's WeCom connection (corp, secrets, callback id) as admins set it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from api.services.app_credentials import allowed_roots, root_and_secrets
from domain.channels import DEFAULT_BASE_URL, MassMessageLimit, WeComCredentials, new_callback_id
from domain.errors import DomainError, InvalidInputError
from store.database import Store


class WeComNotConfiguredError(DomainError):
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


_SECRETS = ("secret", "callback_token", "encoding_aes_key")


class WeComSettingsService:
    """Stores a tenant's WeCom credentials; answers only their public view.

    `allowed_base_urls` are the API roots an admin may point the connection at besides WeCom's
    own (a server that talks to a simulator allows its address). The secret goes to whatever
    root is set, so a new root or corp must come with its secrets again.
    """

    def __init__(self, store: Store, allowed_base_urls: Collection[str] = ()) -> None:
        self._store = store
        self._allowed_base_urls = allowed_roots(DEFAULT_BASE_URL, allowed_base_urls)

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
        data |= root_and_secrets(
            existing=existing,
            identity=("corp_id", "corp", data["corp_id"]),
            requested_root=settings.base_url,
            default_root=DEFAULT_BASE_URL,
            allowed=self._allowed_base_urls,
            secrets={name: getattr(settings, name) for name in _SECRETS},
            first_time="required when WeCom is configured the first time",
        )
        if settings.mass_message_limit is not None:
            data["mass_message_limit"] = settings.mass_message_limit
        elif existing is not None:
            data["mass_message_limit"] = existing.mass_message_limit
        try:
            credentials = WeComCredentials.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc) from exc
        await self._store.wecom_credentials.put(credentials)
        return credentials
