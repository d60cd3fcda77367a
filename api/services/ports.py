"""What the API needs from parts it may not import (the connectors live outside its layer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel

from domain.channels import ProvisionedCode, WeComCredentials
from domain.wechat import WeChatAppSettings
from domain.wechat_events import WeChatMessage
from domain.wecom_events import GroupMember

# One clock for every service: ingestion (a layer below) defines it, the API's services share it.
from ingestion.clock import Clock as Clock
from ingestion.clock import utc_now as utc_now


class ChannelCatalog(Protocol):
    """The channels and actions journeys may use (`connectors.ConnectorRegistry` satisfies it)."""

    def catalog(self) -> Mapping[str, Mapping[str, type[BaseModel]]]:
        """channel → action → params model, for journey validation."""
        ...

    def describe(self) -> list[dict[str, Any]]:
        """One dict per action: `channel`, `action`, `description`, `params_schema`."""
        ...


class CallbackCodec(Protocol):
    """Verifies and opens WeCom callbacks (`connectors.wecom.envelope.CallbackCodec`).

    Both methods check `msg_signature` before anything else and raise `ValueError` (with a short
    reason, never key material) when the request does not check out.
    """

    def verify_url(
        self,
        credentials: WeComCredentials,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        echostr: str,
    ) -> str:
        """The decrypted echostr a URL-verification GET is answered with."""
        ...

    def open(
        self,
        credentials: WeComCredentials,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
    ) -> dict[str, str]:
        """The decrypted inner message of a callback POST, as flat `{tag: text}`."""
        ...


class CodeProvisioner(Protocol):
    """Makes, changes and removes WeCom codes (`connectors.wecom.WeComConnector` satisfies it).

    Failures raise the connector's channel errors or `ValueError`. A channel error is known by
    what it carries, a machine-readable `code` (permanent) or `retry_after` (transient); its text
    (the channel's own words) is not shown to callers. Anything else is a bug.
    """

    async def create_contact_way(
        self,
        tenant_id: str,
        *,
        state: str,
        users: list[str],
        skip_verify: bool = True,
        remark: str | None = None,
    ) -> ProvisionedCode:
        """A channel code (contact way) adding one of `users`, echoing `state` in callbacks."""
        ...

    async def update_contact_way(
        self,
        tenant_id: str,
        config_id: str,
        *,
        users: list[str] | None,
        remark: str | None = None,
    ) -> None:
        """Change who a contact way adds (None keeps them)."""
        ...

    async def delete_contact_way(self, tenant_id: str, config_id: str) -> None:
        """Remove a contact way from WeCom."""
        ...

    async def create_join_way(
        self,
        tenant_id: str,
        *,
        state: str,
        chat_ids: list[str],
        auto_create_room: bool,
        room_base_name: str | None,
        room_base_id: int | None,
    ) -> ProvisionedCode:
        """A group live code over up to five groups, echoing `state` to group members."""
        ...

    async def delete_join_way(self, tenant_id: str, config_id: str) -> None:
        """Remove a join way from WeCom."""
        ...


class GroupDirectory(Protocol):
    """Who is in a WeCom customer group (`connectors.wecom.WeComConnector` satisfies it).

    Failures raise the connector's channel errors; callers treat the answer as best-effort.
    """

    async def group_members(self, tenant_id: str, chat_id: str) -> list[GroupMember]:
        """The group's members, each with the `state` of the join way it came through."""
        ...


class WeChatPushCodec(Protocol):
    """Verifies and opens WeChat message pushes (`connectors.wechat.WeChatCodec`).

    Both methods check the signature before anything else and raise `ValueError` (with a short
    reason, never key material) when the request does not check out.
    """

    def verify_url(
        self, settings: WeChatAppSettings, sig: str, timestamp: str, nonce: str, echostr: str
    ) -> str:
        """The echostr a URL-verification GET is answered with."""
        ...

    def open(
        self,
        settings: WeChatAppSettings,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
    ) -> WeChatMessage:
        """The decrypted inner message of a safe-mode push."""
        ...
