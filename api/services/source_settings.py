"""Configuring the sources (`SourceSettingsService`): set, clear, show, rotate.

Setting a source keeps its callback id when it has one (so the URL the platform was given stays
valid) and makes one otherwise. Only the public view (`SourceView`) leaves this service; the
order webhook's secret is made here and shown once, when it is made or rotated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from api.services.ports import Clock, utc_now
from domain.errors import InvalidInputError, NotFoundError
from domain.sources.settings import (
    DOUYIN_KIND,
    ORDERS_KIND,
    XIAOHONGSHU_KIND,
    YOUZAN_KIND,
    DouyinLeadSettings,
    OrderWebhookSettings,
    XiaohongshuLeadSettings,
    YouzanSettings,
)
from domain.webhooks import check_overlap
from store.database import Store

SOURCE_PATHS = {
    DOUYIN_KIND: "/v1/sources/douyin/{callback_id}",
    XIAOHONGSHU_KIND: "/v1/sources/xiaohongshu/{callback_id}",
    ORDERS_KIND: "/v1/sources/orders/{callback_id}",
    YOUZAN_KIND: "/v1/sources/youzan/{callback_id}",
}
MODELS: dict[str, type[BaseModel]] = {
    DOUYIN_KIND: DouyinLeadSettings,
    XIAOHONGSHU_KIND: XiaohongshuLeadSettings,
    ORDERS_KIND: OrderWebhookSettings,
    YOUZAN_KIND: YouzanSettings,
}
ORDER_SECRET_PREFIX = "ossec_"  # noqa: S105 - a prefix marking the kind, not a secret


@dataclass(frozen=True, slots=True)
class SourceView:
    """What may be shown of a source's settings: never a secret."""

    kind: str
    callback_id: str
    path: str
    client_key: str | None = None
    client_id: str | None = None
    previous_secret_valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class MadeSecret:
    """The order webhook's settings and its new secret, shown this once."""

    view: SourceView
    secret: str


def _view(kind: str, settings: BaseModel) -> SourceView:
    data: dict[str, Any] = settings.model_dump()
    return SourceView(
        kind=kind,
        callback_id=data["callback_id"],
        path=SOURCE_PATHS[kind].format(callback_id=data["callback_id"]),
        client_key=data.get("client_key"),
        client_id=data.get("client_id"),
        previous_secret_valid_until=data.get("previous_valid_until"),
    )


class SourceSettingsService:
    """Per-tenant source settings over `store.channel_settings` (module docstring)."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def _callback_id(self, tenant_id: str, kind: str) -> str:
        existing = await self._store.channel_settings.get(tenant_id, kind, MODELS[kind])
        if existing is not None:
            return str(existing.model_dump()["callback_id"])
        return secrets.token_urlsafe(18)

    async def _put(self, tenant_id: str, kind: str, fields: dict[str, Any]) -> SourceView:
        callback_id = await self._callback_id(tenant_id, kind)
        try:
            settings = MODELS[kind].model_validate({**fields, "callback_id": callback_id})
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc) from exc
        await self._store.channel_settings.put(
            tenant_id, kind, settings, self._clock(), lookup=callback_id
        )
        return _view(kind, settings)

    async def set_douyin(
        self, tenant_id: str, client_secret: str, client_key: str | None = None
    ) -> SourceView:
        """Connect Douyin lead pushes signed with `client_secret`."""
        _required("clientSecret", client_secret)
        return await self._put(
            tenant_id, DOUYIN_KIND, {"client_secret": client_secret, "client_key": client_key}
        )

    async def set_xiaohongshu(self, tenant_id: str, token: str) -> SourceView:
        """Connect Xiaohongshu lead pushes signed with the landing page's `token`."""
        _required("token", token)
        return await self._put(tenant_id, XIAOHONGSHU_KIND, {"token": token})

    async def set_youzan(self, tenant_id: str, client_id: str, client_secret: str) -> SourceView:
        """Connect Youzan pushes of the app `client_id`, signed with `client_secret`."""
        _required("clientId", client_id)
        _required("clientSecret", client_secret)
        return await self._put(
            tenant_id, YOUZAN_KIND, {"client_id": client_id, "client_secret": client_secret}
        )

    async def set_orders(self, tenant_id: str) -> MadeSecret:
        """Turn the order webhook on with a fresh secret (any previous one stops at once)."""
        secret = ORDER_SECRET_PREFIX + secrets.token_urlsafe(32)
        view = await self._put(tenant_id, ORDERS_KIND, {"secret": secret})
        return MadeSecret(view, secret)

    async def rotate_orders_secret(self, tenant_id: str, overlap: timedelta) -> MadeSecret:
        """A new order webhook secret; the current one is still accepted for `overlap`."""
        check_overlap(overlap)
        current = await self._store.channel_settings.get(
            tenant_id, ORDERS_KIND, OrderWebhookSettings
        )
        if current is None:
            raise NotFoundError("order webhook", tenant_id)
        secret = ORDER_SECRET_PREFIX + secrets.token_urlsafe(32)
        previous = current.secret if overlap > timedelta(0) else None
        view = await self._put(
            tenant_id,
            ORDERS_KIND,
            {
                "secret": secret,
                "previous_secret": previous,
                "previous_valid_until": self._clock() + overlap if previous else None,
            },
        )
        return MadeSecret(view, secret)

    async def clear(self, tenant_id: str, kind: str) -> bool:
        """Disconnect the source; whether it was connected (its URL stops answering)."""
        return await self._store.channel_settings.delete(tenant_id, kind)

    async def views(self, tenant_id: str) -> list[SourceView]:
        """The public view of each connected source, in `SOURCE_PATHS` order."""
        found = []
        for kind, model in MODELS.items():
            settings = await self._store.channel_settings.get(tenant_id, kind, model)
            if settings is not None:
                found.append(_view(kind, settings))
        return found


def _required(path: str, value: str) -> None:
    if not value.strip():
        raise InvalidInputError.single(path, "is required")
