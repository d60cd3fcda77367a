"""The tenant's SMS settings (admins only)."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.sms.types import SmsSettings


@strawberry.type
class SmsQueries:
    @described_field(
        "The tenant's SMS provider account (admin keys only; null otherwise or unset)."
    )
    async def sms_settings(self, info: Info) -> SmsSettings | None:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return None
        settings = await info.context.services.sms_settings.get(info.context.tenant_id)
        return None if settings is None else SmsSettings.of(settings)
