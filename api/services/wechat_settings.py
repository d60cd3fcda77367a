"""A tenant's WeChat apps (Official Account, mini-program) as admins set them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, ValidationError

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


def _root(url: str) -> str:
    return url if url.endswith("/") else url + "/"


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
        self._allowed_base_urls = frozenset(
            _root(url) for url in (DEFAULT_BASE_URL, *allowed_base_urls)
        )

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
        new_root = _root(app.base_url) if app.base_url is not None else None
        if existing is None:
            base_url = new_root or DEFAULT_BASE_URL
            retyped = "required when the app is configured the first time"
        else:
            base_url = new_root or existing.base_url
            if base_url != existing.base_url:
                retyped = "required again when the base URL changes"
            elif data["appid"] != existing.appid:
                retyped = "required again when the appid changes"
            else:
                retyped = ""
        if (existing is None or base_url != existing.base_url) and (
            base_url not in self._allowed_base_urls
        ):
            allowed = ", ".join(sorted(self._allowed_base_urls))
            raise InvalidInputError.single("base_url", f"must be one of: {allowed}")
        data["base_url"] = base_url
        missing = []
        for name in _SECRETS:
            value: str | None = getattr(app, name)
            if value is not None:
                data[name] = SecretStr(value)
            elif existing is not None and not retyped:
                data[name] = getattr(existing, name)
            else:
                missing.append(name)
        if missing:
            raise InvalidInputError.single(", ".join(missing), retyped)
        try:
            settings = WeChatAppSettings.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc) from exc
        await self._store.wechat_apps.put(tenant_id, app.kind, settings, self._clock())
        return settings

    async def clear(self, tenant_id: str, kind: str) -> bool:
        """Disconnect the tenant's app of `kind`; whether there was one."""
        return await self._store.wechat_apps.delete(tenant_id, kind)
