"""What the WeCom connector needs from the rest of the system, as narrow protocols.

The connector may not import `store/`; the composition root passes the store's repositories
(`store.wecom_credentials`, `store.wecom_allowances`, `store.wecom_transfers`), which satisfy
these protocols structurally.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.channels import WeComCredentials


class CredentialsProvider(Protocol):
    """A tenant's WeCom credentials."""

    async def get(self, tenant_id: str) -> WeComCredentials | None:
        """The tenant's credentials, or None when it has not connected WeCom."""
        ...


class Allowances(Protocol):
    """Per-customer mass-message allowances, counted per period."""

    async def reserve(
        self, tenant_id: str, external_userid: str, period_key: str, max_count: int, key: str
    ) -> bool:
        """Count one message under `key` (idempotent); False when the period is full."""
        ...

    async def release(self, tenant_id: str, key: str) -> bool:
        """Give back the message counted under `key`."""
        ...

    async def holds(self, tenant_id: str, key: str) -> bool:
        """Whether a message is counted under `key` (an earlier attempt reserved it)."""
        ...


class Transfers(Protocol):
    """The customer transfers made so far."""

    async def record(
        self,
        tenant_id: str,
        external_userid: str,
        at: datetime,
        key: str,
        *,
        handover_userid: str = "",
        takeover_userid: str = "",
    ) -> None:
        """Record one transfer (once per `key`)."""
        ...

    async def recorded(self, tenant_id: str, key: str) -> bool:
        """Whether a transfer was recorded under `key`."""
        ...

    async def count_since(self, tenant_id: str, external_userid: str, since: datetime) -> int:
        """How many transfers of the customer happened at or after `since`."""
        ...
