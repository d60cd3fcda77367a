"""A tenant's webhook signing secret as admins see it: its metadata, and rotation."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from api.services.ports import Clock, utc_now
from domain.webhooks import DEFAULT_OVERLAP, WebhookSecretInfo, check_overlap
from store.database import Store


class WebhookSecretService:
    """Shows whether a tenant's secret is set (never the secret) and rotates it."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def info(self, tenant_id: str) -> WebhookSecretInfo | None:
        """The secret's creation time and overlap end, or None when the tenant has none yet."""
        return await self._store.webhook_secrets.info(tenant_id)

    async def rotate(
        self, tenant_id: str, overlap: timedelta = DEFAULT_OVERLAP
    ) -> tuple[SecretStr, WebhookSecretInfo]:
        """A new secret (shown only in this answer); the replaced one signs too for `overlap`
        (0 to 7 days, else `InvalidInput`)."""
        check_overlap(overlap)
        return await self._store.webhook_secrets.rotate(tenant_id, self._clock(), overlap)
