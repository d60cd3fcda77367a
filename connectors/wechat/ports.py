"""What the WeChat connectors need from the rest of the system, as narrow protocols.

The connectors may not import `store/`; the composition root passes adapters over
`store.channel_settings` and `store.miniprogram_authorizations`, which satisfy these structurally.
"""

from __future__ import annotations

from typing import Protocol

from domain.wechat import WeChatAppSettings


class AppSettingsProvider(Protocol):
    """A tenant's WeChat apps."""

    async def get(self, tenant_id: str, kind: str) -> WeChatAppSettings | None:
        """The tenant's app of `kind` (`oa`, `miniprogram`), or None when it has not connected one."""
        ...


class Authorizations(Protocol):
    """Mini-program one-time subscription authorisations, counted per openid and template."""

    async def consume(self, tenant_id: str, openid: str, template_id: str, key: str) -> bool:
        """Spend one authorisation under `key` (idempotent: the same key spends at most one);
        False when the user has none left for the template."""
        ...

    async def release(self, tenant_id: str, openid: str, template_id: str, key: str) -> bool:
        """Give back the authorisation spent under `key` (the send did not reach the user)."""
        ...
