"""Connecting, disconnecting and rotating the lead and order sources (admins only)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Conflict, Forbidden, InvalidInput, NotFound, described_mutation
from api.graphql.context import Info
from api.graphql.sources.types import (
    DouyinLeadSourceInput,
    OrderWebhookSecret,
    SourceCleared,
    SourceKind,
    SourceSettings,
    XiaohongshuLeadSourceInput,
    YouzanSourceInput,
)
from api.services.source_settings import MadeSecret, SourceView
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.webhooks import MAX_OVERLAP

_MAX_HOURS = int(MAX_OVERLAP.total_seconds() // 3600)

SetSourceResult = Annotated[
    SourceSettings | InvalidInput | Conflict | Forbidden,
    strawberry.union(
        "SetSourceResult",
        description="`SourceSettings` of the connected source; `InvalidInput` for an empty "
        "secret; `Conflict` when another tenant uses that account; `Forbidden` for any key "
        "but an admin's.",
    ),
]
OrderWebhookSecretResult = Annotated[
    OrderWebhookSecret | InvalidInput | NotFound | Forbidden,
    strawberry.union(
        "OrderWebhookSecretResult",
        description="`OrderWebhookSecret` with the new secret (shown only there); "
        "`InvalidInput` for an overlap outside 0 to 168 hours; `NotFound` when rotating an "
        "order webhook never set; `Forbidden` for any key but an admin's.",
    ),
]
ClearSourceResult = Annotated[
    SourceCleared | Forbidden,
    strawberry.union(
        "ClearSourceResult",
        description="`SourceCleared`; `Forbidden` for any key but an admin's.",
    ),
]


def _made(made: MadeSecret) -> OrderWebhookSecret:
    return OrderWebhookSecret(secret=made.secret, settings=SourceSettings.of(made.view))


async def _set(setting: Awaitable[SourceView]) -> SetSourceResult:
    try:
        view = await setting
    except InvalidInputError as exc:
        return InvalidInput.of(exc)
    except ConflictError as exc:
        return Conflict.of(exc)
    return SourceSettings.of(view)


@strawberry.type
class SourceMutations:
    @described_mutation(
        "Connect Douyin lead pushes: answers the URL path to give Douyin. Each push is "
        "verified with the client secret before it is read; leads become `lead.created` "
        "events. Setting it again keeps the URL. Admin keys only."
    )
    async def set_douyin_lead_source(
        self,
        info: Info,
        input: Annotated[
            DouyinLeadSourceInput, strawberry.argument(description="The app's credentials.")
        ],
    ) -> SetSourceResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        service = info.context.services.source_settings
        return await _set(
            service.set_douyin(info.context.tenant_id, input.client_secret, input.client_key)
        )

    @described_mutation(
        "Connect Xiaohongshu lead pushes: answers the URL path to give the landing page. Each "
        "push is verified with the token before it is read; leads become `lead.created` "
        "events. Setting it again keeps the URL. Admin keys only."
    )
    async def set_xiaohongshu_lead_source(
        self,
        info: Info,
        input: Annotated[
            XiaohongshuLeadSourceInput,
            strawberry.argument(description="The landing page's push token."),
        ],
    ) -> SetSourceResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        service = info.context.services.source_settings
        return await _set(service.set_xiaohongshu(info.context.tenant_id, input.token))

    @described_mutation(
        "Connect Youzan's message push: answers the URL path to give Youzan. Each message is "
        "verified with the app's client secret; paid and refunded trades become `order.paid` "
        "and `order.refunded`. Admin keys only."
    )
    async def set_youzan_source(
        self,
        info: Info,
        input: Annotated[
            YouzanSourceInput, strawberry.argument(description="The Youzan app's credentials.")
        ],
    ) -> SetSourceResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        service = info.context.services.source_settings
        return await _set(
            service.set_youzan(info.context.tenant_id, input.client_id, input.client_secret)
        )

    @described_mutation(
        "Turn the order webhook on (or reset it) with a new secret, answered once; a previous "
        "secret stops at once (use `rotateOrderWebhookSecret` for an overlap). The URL is kept. "
        "Admin keys only."
    )
    async def set_order_webhook(self, info: Info) -> OrderWebhookSecretResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        made = await info.context.services.source_settings.set_orders(info.context.tenant_id)
        return _made(made)

    @described_mutation(
        "Make a new order webhook secret, answered once; the replaced one is still accepted "
        "for `overlapHours` so the shop can switch without losing messages. Admin keys only."
    )
    async def rotate_order_webhook_secret(
        self,
        info: Info,
        overlap_hours: Annotated[
            int,
            strawberry.argument(
                description=f"How long the replaced secret is still accepted, 0 to {_MAX_HOURS} "
                "hours (default 24); 0 stops it at once."
            ),
        ] = 24,
    ) -> OrderWebhookSecretResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        try:
            made = await info.context.services.source_settings.rotate_orders_secret(
                info.context.tenant_id, timedelta(hours=overlap_hours)
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except NotFoundError as exc:
            return NotFound.of(exc)
        return _made(made)

    @described_mutation(
        "Disconnect a source: its URL stops answering (404) and its secret is forgotten. "
        "Admin keys only."
    )
    async def clear_source(
        self,
        info: Info,
        kind: Annotated[SourceKind, strawberry.argument(description="The source to disconnect.")],
    ) -> ClearSourceResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        cleared = await info.context.services.source_settings.clear(
            info.context.tenant_id, kind.value
        )
        return SourceCleared(kind=kind, was_connected=cleared)
