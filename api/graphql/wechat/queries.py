"""The tenant's WeChat apps (admins only)."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.wechat.types import WeChatApp
from domain.wechat import APP_KINDS


@strawberry.type
class WeChatQueries:
    @described_field(
        "The tenant's connected WeChat apps, Official Account first (admin keys only; null "
        "otherwise)."
    )
    async def wechat_apps(self, info: Info) -> list[WeChatApp] | None:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return None
        apps = []
        for kind in APP_KINDS:
            settings = await info.context.services.wechat_settings.get(info.context.tenant_id, kind)
            if settings is not None:
                apps.append(WeChatApp.of(kind, settings))
        return apps
