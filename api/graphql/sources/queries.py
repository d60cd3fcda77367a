"""The tenant's connected sources (admins only)."""

from __future__ import annotations

import strawberry

from api.auth import Permission
from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.sources.types import SourceSettings


@strawberry.type
class SourceQueries:
    @described_field(
        "The tenant's connected lead and order sources, with the URL path of each; never a "
        "secret (admin keys only; null otherwise)."
    )
    async def sources(self, info: Info) -> list[SourceSettings] | None:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return None
        views = await info.context.services.source_settings.views(info.context.tenant_id)
        return [SourceSettings.of(view) for view in views]
