"""A tenant's WeChat apps (Official Account, mini-program) as admins set them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from api.services.app_credentials import allowed_roots, root_and_secrets
from domain.channels import new_callback_id
from domain.errors import InvalidInputError
from domain.wechat import APP_KINDS, DEFAULT_BASE_URL, WeChatAppSettings
from ingestion.clock import Clock, utc_now
from store.database import Store

CALLBACK_PATH = "/v1/callbacks/{kind}/{callback_id}"


def callback_path(kind: str, callback_id: str) -> str:
    """The path of an app's message push URL."""
    return CALLBACK_PATH.format(kind=kind, callback_id=callback_id)


@dataclass(frozen=True, slots=True)
class WeChatAppInput:
    """An app as an admin sets it; omitted secrets keep their values."""

    kind: str
    appid: str
    appsecret: str | None = None
    callback_token: str | None = None
    encoding_aes_key: str | None = None
    base_url: str | None = None


_SECRETS = ("appsecret", "callback_token", "encoding_aes_key")


class WeChatSettingsService:
    """Stores a tenant's WeChat apps; answers only their public view.

    `allowed_base_urls` are the API roots an admin may point an app at besides WeChat's own (a
    server that talks to a simulator allows its address). The appsecret goes to whatever root is
    set, so a new root or appid must come with the secrets again.
    """

    def __init__(
        self, store: Store, allowed_base_urls: Collection[str] = (), clock: Clock = utc_now
    ) -> None:
        self._store = store
        self._clock = clock
        self._allowed_base_urls = allowed_roots(DEFAULT_BASE_URL, allowed_base_urls)

    async def get(self, tenant_id: str, kind: str) -> WeChatAppSettings | None:
        """The tenant's app of `kind`, or None (callers show `public()` only)."""
        return await self._store.wechat_apps.get(tenant_id, kind)

    async def configure(self, tenant_id: str, app: WeChatAppInput) -> WeChatAppSettings:
        """Create or change the app; its callback id is kept once made."""
        if app.kind not in APP_KINDS:
            raise InvalidInputError.single("kind", f"must be one of: {', '.join(APP_KINDS)}")
        existing = await self._store.wechat_apps.get(tenant_id, app.kind)
        data: dict[str, Any] = {
            "appid": app.appid.strip(),
            "callback_id": existing.callback_id if existing else new_callback_id(),
        }
        data |= root_and_secrets(
            existing=existing,
            identity=("appid", "appid", data["appid"]),
            requested_root=app.base_url,
            default_root=DEFAULT_BASE_URL,
            allowed=self._allowed_base_urls,
            secrets={name: getattr(app, name) for name in _SECRETS},
            first_time="required when the app is configured the first time",
        )
        try:
            settings = WeChatAppSettings.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc) from exc
        await self._store.wechat_apps.put(tenant_id, app.kind, settings, self._clock())
        return settings

    async def clear(self, tenant_id: str, kind: str) -> bool:
        """Disconnect the tenant's app of `kind`; whether there was one."""
        return await self._store.wechat_apps.delete(tenant_id, kind)
