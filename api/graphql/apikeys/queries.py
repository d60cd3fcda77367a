"""The tenant's API keys, for admins."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.apikeys.types import ApiKey
from api.graphql.common import described_field
from api.graphql.context import Info


@strawberry.type
class ApiKeyQueries:
    @described_field(
        "The tenant's API keys, oldest first, without their secrets (admin keys only; null for "
        "any other role)."
    )
    async def api_keys(
        self,
        info: Info,
        include_revoked: Annotated[
            bool,
            strawberry.argument(description="Whether revoked keys are listed (default true)."),
        ] = True,
    ) -> list[ApiKey] | None:
        if not info.context.can(Permission.MANAGE_API_KEYS):
            return None
        keys = await info.context.services.api_keys.of_tenant(
            info.context.tenant_id, include_revoked=include_revoked
        )
        now = info.context.services.api_keys.now()
        return [ApiKey.of(key, now) for key in keys]
