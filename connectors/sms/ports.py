"""What the `sms` connector needs from outside: the tenant's settings and a record of sent SMS."""

from __future__ import annotations

from typing import Protocol

from domain.sms import SentSms, SmsSettings


class SmsSettingsSource(Protocol):
    """The tenant's SMS settings (`store.channel_settings` kind `sms`)."""

    async def __call__(self, tenant_id: str) -> SmsSettings | None:
        """The settings, or None when the tenant has not configured SMS."""
        ...


class SentMessages(Protocol):
    """Where accepted messages are recorded (`store.sms_messages`)."""

    async def record(self, message: SentSms) -> None:
        """Keep `message` for reconciling its delivery report."""
        ...


class ProviderClient(Protocol):
    """One provider's `SendSms`."""

    async def send(
        self,
        settings: SmsSettings,
        phone: str,
        template: str,
        template_params: dict[str, str],
        out_id: str,
    ) -> str:
        """Send one SMS; the provider's id for it."""
        ...
