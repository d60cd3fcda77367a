"""Tenants' WeChat apps (`oa`, `miniprogram`) over `store.channel_settings`.

Each app is the `WeChatAppSettings` of its kind, sealed like every channel setting, with its
callback id as the lookup key: the message push URL `/v1/callbacks/{kind}/{callback_id}` finds
its tenant by it before the push is verified with the settings found.
"""

from __future__ import annotations

from datetime import datetime

from domain.wechat import WeChatAppSettings
from store.channel_settings import ChannelSettingsRepository


class WeChatApps:
    """Read and write a tenant's WeChat apps; satisfies `connectors.wechat.AppSettingsProvider`."""

    def __init__(self, settings: ChannelSettingsRepository) -> None:
        self._settings = settings

    async def get(self, tenant_id: str, kind: str) -> WeChatAppSettings | None:
        """The tenant's app of `kind`, or None."""
        return await self._settings.get(tenant_id, kind, WeChatAppSettings)

    async def by_callback_id(
        self, kind: str, callback_id: str
    ) -> tuple[str, WeChatAppSettings] | None:
        """(tenant id, app) whose message push URL ends in `callback_id`, or None."""
        return await self._settings.by_lookup(kind, callback_id, WeChatAppSettings)

    async def put(self, tenant_id: str, kind: str, app: WeChatAppSettings, now: datetime) -> None:
        """Store the tenant's app of `kind`, replacing any (`ConflictError` on a taken callback id)."""
        await self._settings.put(tenant_id, kind, app, now, lookup=app.callback_id)

    async def delete(self, tenant_id: str, kind: str) -> bool:
        """Forget the tenant's app of `kind`; whether there was one."""
        return await self._settings.delete(tenant_id, kind)
