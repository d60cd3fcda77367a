"""Codes provisioned on WeCom for hooks: contact ways (渠道活码) and group join ways (群活码).

The API creates and deletes them through its `CodeProvisioner` port, which `WeComConnector`
satisfies by inheriting these methods; `group_members` (its `GroupDirectory` port) reads who is
in a customer group and through which join way, which group callbacks do not say. Input WeCom would refuse (a `state` over 30 characters,
more than 5 groups, a long room name or remark) raises `InvalidInputError` before any call; WeCom's
own refusals come out as the client's channel errors, which the API tells apart by their `code`
(permanent) or `retry_after` (transient): keep those attributes on whatever is raised here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import TransientChannelError
from connectors.wecom.client import WeComClient
from domain.channels import ProvisionedCode, check_join_way, check_state
from domain.customers import PHONE, UNIONID
from domain.errors import InvalidInputError
from domain.wecom_events import GroupMember

MAX_CONTACT_WAY_USERS = 100
MAX_REMARK_LENGTH = 30


class WeComCodes:
    """Contact-way and join-way provisioning over a `WeComClient`."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    async def create_contact_way(
        self,
        tenant_id: str,
        *,
        state: str,
        users: list[str],
        skip_verify: bool = True,
        remark: str | None = None,
    ) -> ProvisionedCode:
        """A channel code (渠道活码) adding its scanners to `users`; `state` names the hook."""
        check_state(state)
        _check_users(users)
        payload: dict[str, Any] = {
            "type": 1 if len(users) == 1 else 2,
            "scene": 2,
            "state": state,
            "user": users,
            "skip_verify": skip_verify,
        }
        if remark is not None:
            payload["remark"] = _checked_remark(remark)
        answer = await self.client.call(tenant_id, "externalcontact/add_contact_way", payload)
        return ProvisionedCode(
            config_id=required_str(answer, "config_id", "add_contact_way"),
            qr_code=str(answer.get("qr_code") or ""),
        )

    async def update_contact_way(
        self,
        tenant_id: str,
        config_id: str,
        *,
        users: list[str] | None,
        remark: str | None = None,
    ) -> None:
        """Change a channel code's staff and/or remark."""
        payload: dict[str, Any] = {"config_id": config_id}
        if users is not None:
            _check_users(users)
            payload["user"] = users
        if remark is not None:
            payload["remark"] = _checked_remark(remark)
        await self.client.call(tenant_id, "externalcontact/update_contact_way", payload)

    async def delete_contact_way(self, tenant_id: str, config_id: str) -> None:
        """Delete a channel code."""
        await self.client.call(
            tenant_id, "externalcontact/del_contact_way", {"config_id": config_id}
        )

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
        """A group live code (群活码) over up to 5 groups; `state` comes back on each join."""
        check_state(state)
        check_join_way(chat_ids, room_base_name)
        payload: dict[str, Any] = {
            "scene": 2,
            "chat_id_list": chat_ids,
            "auto_create_room": 1 if auto_create_room else 0,
            "state": state,
        }
        if room_base_name is not None:
            payload["room_base_name"] = room_base_name
        if room_base_id is not None:
            payload["room_base_id"] = room_base_id
        answer = await self.client.call(
            tenant_id, "externalcontact/groupchat/add_join_way", payload
        )
        config_id = required_str(answer, "config_id", "add_join_way")
        qr_code = answer.get("qr_code")
        if not qr_code:
            # WeCom answers the config id only; the QR code comes with the configuration.
            found = await self.client.call(
                tenant_id, "externalcontact/groupchat/get_join_way", {"config_id": config_id}
            )
            join_way = found.get("join_way") or {}
            qr_code = join_way.get("qr_code") if isinstance(join_way, Mapping) else None
        return ProvisionedCode(config_id=config_id, qr_code=str(qr_code or ""))

    async def delete_join_way(self, tenant_id: str, config_id: str) -> None:
        """Delete a group live code."""
        await self.client.call(
            tenant_id, "externalcontact/groupchat/del_join_way", {"config_id": config_id}
        )

    async def group_members(self, tenant_id: str, chat_id: str) -> list[GroupMember]:
        """The members of a customer group (`groupchat/get`), with each one's join-way state."""
        answer = await self.client.call(
            tenant_id, "externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 0}
        )
        chat = answer.get("group_chat")
        listed = chat.get("member_list") if isinstance(chat, Mapping) else None
        if not isinstance(listed, list):
            raise TransientChannelError("wecom groupchat/get answered without member_list")
        return [member for item in listed if (member := _group_member(item)) is not None]

    async def cancel_mass_message(self, tenant_id: str, msgid: str) -> None:
        """Stop a mass-message task (`cancel_groupmsg_send`): staff who have not sent it yet
        no longer can."""
        await self.client.call(tenant_id, "externalcontact/cancel_groupmsg_send", {"msgid": msgid})

    async def contact_identities(self, tenant_id: str, external_userid: str) -> dict[str, str]:
        """`unionid` and a staff-recorded `phone` (the first of `remark_mobiles`) of a contact,
        from `externalcontact/get`; the kinds WeCom does not tell are left out."""
        answer = await self.client.call(
            tenant_id,
            "externalcontact/get",
            method="GET",
            query={"external_userid": external_userid},
        )
        found: dict[str, str] = {}
        contact = answer.get("external_contact")
        unionid = contact.get("unionid") if isinstance(contact, Mapping) else None
        if isinstance(unionid, str) and unionid:
            found[UNIONID] = unionid
        for follow in answer.get("follow_user") or []:
            mobiles = follow.get("remark_mobiles") if isinstance(follow, Mapping) else None
            phone = next((m for m in mobiles or [] if isinstance(m, str) and m.strip()), None)
            if phone is not None:
                found[PHONE] = phone.strip()
                break
        return found


def _group_member(item: object) -> GroupMember | None:
    if not isinstance(item, Mapping):
        return None
    userid = item.get("userid")
    if not isinstance(userid, str) or not userid:
        return None
    state = item.get("state")
    return GroupMember(
        userid=userid,
        type=_int(item.get("type")) or 0,
        state=state if isinstance(state, str) and state else None,
        join_scene=_int(item.get("join_scene")),
        join_time=_int(item.get("join_time")),
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def required_str(answer: Mapping[str, Any], name: str, api: str) -> str:
    """`answer[name]` as a non-empty string; transient when WeCom left it out."""
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise TransientChannelError(f"wecom {api} answered without {name}")
    return value


def _check_users(users: list[str]) -> None:
    if not 1 <= len(users) <= MAX_CONTACT_WAY_USERS or any(not user for user in users):
        raise InvalidInputError.single(
            "users", f"must list 1 to {MAX_CONTACT_WAY_USERS} non-empty staff userids"
        )


def _checked_remark(remark: str) -> str:
    if len(remark) > MAX_REMARK_LENGTH:
        raise InvalidInputError.single("remark", f"must be at most {MAX_REMARK_LENGTH} characters")
    return remark
