"""Hook reads, and the tenant's WeCom settings (admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import After, Connection, First, described_field, page_limit
from api.graphql.context import Info
from api.graphql.hooks.types import Hook, WeComSettings
from api.services.wecom import callback_path
from domain.errors import NotFoundError


@strawberry.type
class HookQueries:
    @described_field(
        "The tenant's hooks in creation order, oldest first (deleted ones on request). "
        "`totalCount` is always null."
    )
    async def hooks(
        self,
        info: Info,
        include_archived: Annotated[
            bool,
            strawberry.argument(
                description="Also list deleted (archived) hooks; by default only live ones."
            ),
        ] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Hook]:
        page = await info.context.services.store.hooks.list(
            info.context.tenant_id,
            include_archived=include_archived,
            cursor=after,
            limit=page_limit(first),
        )
        return Connection.of(page, Hook.of)

    @described_field("One hook, or null when the tenant has none with this id.")
    async def hook(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The hook id (archived ones too).")
        ],
    ) -> Hook | None:
        try:
            model = await info.context.services.store.hooks.get(info.context.tenant_id, id)
        except NotFoundError:
            return None
        return Hook.of(model)

    @described_field("The tenant's WeCom connection (admin keys only; null otherwise or if unset).")
    async def wecom_settings(self, info: Info) -> WeComSettings | None:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return None
        credentials = await info.context.services.wecom_settings.get(info.context.tenant_id)
        if credentials is None:
            return None
        return WeComSettings.of(credentials, callback_path(credentials.callback_id))
