"""Rotating the tenant's webhook signing secret (admins only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.webhooks.types import WebhookSecretRotated, WebhookSettings
from domain.errors import ConflictError, InvalidInputError
from domain.webhooks import DEFAULT_OVERLAP, MAX_OVERLAP

_DEFAULT_HOURS = int(DEFAULT_OVERLAP.total_seconds() // 3600)
_MAX_HOURS = int(MAX_OVERLAP.total_seconds() // 3600)

RotateWebhookSecretResult = Annotated[
    WebhookSecretRotated | InvalidInput | Conflict | Forbidden,
    strawberry.union(
        "RotateWebhookSecretResult",
        description="`WebhookSecretRotated` with the new secret (shown only there); "
        "`InvalidInput` for an overlap outside 0 to 168 hours; `Conflict` when another "
        "rotation ran at the same moment (retry); `Forbidden` for any key but an admin's.",
    ),
]


@strawberry.type
class WebhookMutations:
    @described_mutation(
        "Make a new webhook signing secret for the tenant and answer it once. Until "
        "`overlapHours` have passed, deliveries are signed with both the new and the replaced "
        "secret, so receivers can switch without losing any; then with the new one only. The "
        "first rotation makes the tenant's first known secret. Admin keys only."
    )
    async def rotate_webhook_secret(
        self,
        info: Info,
        overlap_hours: Annotated[
            int,
            strawberry.argument(
                description=f"How long the replaced secret keeps signing, 0 to {_MAX_HOURS} "
                f"hours (default {_DEFAULT_HOURS}); 0 stops it at once."
            ),
        ] = _DEFAULT_HOURS,
    ) -> RotateWebhookSecretResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        try:
            secret, made = await info.context.services.webhooks.rotate(
                info.context.tenant_id, timedelta(hours=overlap_hours)
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return WebhookSecretRotated(
            secret=secret.get_secret_value(), settings=WebhookSettings.of(made)
        )
