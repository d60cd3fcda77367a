"""The e-mail channel's per-tenant records in `channel_settings`: SMTP settings and the key
signing unsubscribe tokens (`domain.email`).

`EmailRecords` is both the e-mail connector's port onto the store (settings and key at send
time) and what the API's services read (settings for admins, the key to verify a token with).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr

from domain.email import (
    SETTINGS_KIND,
    UNSUBSCRIBE_KEY_KIND,
    EmailSettings,
    UnsubscribeKey,
    new_unsubscribe_key,
)
from store.channel_settings import ChannelSettingsRepository


class EmailRecords:
    """A tenant's SMTP settings and unsubscribe key, over `ChannelSettingsRepository`."""

    def __init__(self, settings: ChannelSettingsRepository) -> None:
        self._settings = settings

    async def get(self, tenant_id: str) -> EmailSettings | None:
        """The tenant's SMTP settings, or None when e-mail is not configured."""
        return await self._settings.get(tenant_id, SETTINGS_KIND, EmailSettings)

    async def put(self, tenant_id: str, settings: EmailSettings, now: datetime) -> None:
        """Store the tenant's SMTP settings, replacing any."""
        await self._settings.put(tenant_id, SETTINGS_KIND, settings, now)

    async def delete(self, tenant_id: str) -> bool:
        """Forget the tenant's SMTP settings (the unsubscribe key stays: old links keep
        working); whether there were any."""
        return await self._settings.delete(tenant_id, SETTINGS_KIND)

    async def existing_key(self, tenant_id: str) -> SecretStr | None:
        """The tenant's unsubscribe key, or None when no token was ever issued."""
        found = await self._settings.get(tenant_id, UNSUBSCRIBE_KEY_KIND, UnsubscribeKey)
        return None if found is None else found.secret

    async def unsubscribe_key(self, tenant_id: str, now: datetime) -> SecretStr:
        """The tenant's unsubscribe key, made on first need (a concurrent first use keeps the
        key stored first, so no issued token is orphaned)."""
        found = await self.existing_key(tenant_id)
        if found is not None:
            return found
        await self._settings.add(tenant_id, UNSUBSCRIBE_KEY_KIND, new_unsubscribe_key(), now)
        stored = await self.existing_key(tenant_id)
        assert stored is not None  # just added, or added by the concurrent first use
        return stored
