"""The tenant's SMTP settings, without the password (admins only)."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.email.types import EmailSettings


@strawberry.type
class EmailQueries:
    @described_field(
        "The tenant's SMTP settings for the `email` channel, never the password (admin keys "
        "only; null otherwise or when unset)."
    )
    async def email_settings(self, info: Info) -> EmailSettings | None:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return None
        found = await info.context.services.email_settings.get(info.context.tenant_id)
        return None if found is None else EmailSettings.of(found)
