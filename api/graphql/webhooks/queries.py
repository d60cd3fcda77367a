"""The tenant's webhook signing secret settings (admins only)."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.webhooks.types import WebhookSettings


@strawberry.type
class WebhookQueries:
    @described_field(
        "Whether the tenant's webhook signing secret is set, when it was made and until when "
        "the replaced one still signs; never the secret (admin keys only; null otherwise)."
    )
    async def webhook_settings(self, info: Info) -> WebhookSettings | None:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return None
        return WebhookSettings.of(await info.context.services.webhooks.info(info.context.tenant_id))
