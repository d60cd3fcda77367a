"""A tenant's SMS provider account as admins set it (`channel_settings` kind `sms`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr, ValidationError

from api.services.ports import Clock, utc_now
from domain.channels import new_callback_id
from domain.errors import InvalidInputError
from domain.sms import DEFAULT_BASE_URLS, PROVIDERS, SETTINGS_KIND, SmsSettings, root_url
from store.database import Store

CALLBACK_PATH = "/v1/callbacks/sms/{provider}/{callback_id}"


def sms_callback_path(settings: SmsSettings) -> str:
    """The path of the tenant's callback URL (reports and replies), to give the provider."""
    return CALLBACK_PATH.format(provider=settings.provider, callback_id=settings.callback_id)


@dataclass(frozen=True, slots=True)
class SmsSettingsInput:
    """The account as an admin sets it; an omitted secret keeps the stored one."""

    provider: str
    access_key_id: str
    sign_name: str
    secret: str | None = None
    sdk_app_id: str | None = None
    region: str | None = None
    base_url: str | None = None


class SmsSettingsService:
    """Stores a tenant's SMS settings; callers show only their public view.

    `allowed_base_urls` are API roots an admin may point the account at besides the provider's
    own (a server that talks to the simulator allows its roots): the secret signs requests to
    whatever root is set, so an arbitrary host must not be settable. A new provider, root or
    key id must come with its secret again.
    """

    def __init__(
        self, store: Store, allowed_base_urls: Collection[str] = (), clock: Clock = utc_now
    ) -> None:
        self._store = store
        self._extra_roots = frozenset(root_url(url) for url in allowed_base_urls)
        self._clock = clock

    async def get(self, tenant_id: str) -> SmsSettings | None:
        """The tenant's settings, or None."""
        return await self._store.channel_settings.get(tenant_id, SETTINGS_KIND, SmsSettings)

    async def clear(self, tenant_id: str) -> bool:
        """Forget the tenant's settings; whether there were any."""
        return await self._store.channel_settings.delete(tenant_id, SETTINGS_KIND)

    async def configure(self, tenant_id: str, given: SmsSettingsInput) -> SmsSettings:
        """Create or change the settings; the callback id is kept once made."""
        if given.provider not in PROVIDERS:
            raise InvalidInputError.single("provider", "must be aliyun or tencent")
        existing = await self.get(tenant_id)
        provider = given.provider
        default_root = DEFAULT_BASE_URLS[provider]
        if given.base_url is not None:
            base_url = root_url(given.base_url.strip())
        elif existing is not None and existing.provider == provider:
            base_url = existing.base_url
        else:
            base_url = default_root
        if base_url != default_root and base_url not in self._extra_roots:
            allowed = ", ".join(sorted({default_root, *self._extra_roots}))
            raise InvalidInputError.single("base_url", f"must be one of: {allowed}")
        data: dict[str, Any] = {
            "provider": provider,
            "access_key_id": given.access_key_id.strip(),
            "sign_name": given.sign_name.strip(),
            "sdk_app_id": given.sdk_app_id,
            "region": (given.region or "").strip(),
            "base_url": base_url,
            "callback_id": existing.callback_id if existing else new_callback_id(),
        }
        if given.secret is not None:
            data["secret"] = SecretStr(given.secret)
        elif existing is not None and (
            existing.provider,
            existing.base_url,
            existing.access_key_id,
        ) == (provider, base_url, data["access_key_id"]):
            data["secret"] = existing.secret
        else:
            raise InvalidInputError.single(
                "secret", "required with a new provider, base URL or access key id"
            )
        try:
            settings = SmsSettings.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc) from exc
        now: datetime = self._clock()
        await self._store.channel_settings.put(
            tenant_id, SETTINGS_KIND, settings, now, lookup=settings.callback_id
        )
        return settings
