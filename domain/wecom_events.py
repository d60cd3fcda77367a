"""WeCom callbacks as events: a pure translation of a decrypted callback message.

A callback's inner XML arrives as a flat `dict[str, str]` (tag → text). `translate` turns the
external-contact kinds a journey reacts to into an `EventIn`; every other kind answers None (the
caller logs and acknowledges it, since WeCom would only retry it).

| WeCom callback                                              | event                                  |
|-------------------------------------------------------------|----------------------------------------|
| change_external_contact / add_external_contact              | `wecom.contact_added`                  |
| change_external_contact / add_half_external_contact         | `wecom.contact_added` (`half: true`)   |
| change_external_contact / del_follow_user                   | `wecom.contact_deleted_by_customer`    |
| change_external_contact / del_external_contact              | `wecom.contact_deleted_by_staff`       |
| change_external_contact / edit_external_contact             | `wecom.tag_changed`                    |
| change_external_chat / update + add_member                  | `wecom.group_joined`                   |
| change_external_chat / update + del_member                  | `wecom.group_left`                     |

`edit_external_contact` is WeCom's only per-customer notice that a staff member changed the
customer's tags (or remark); the callback itself does not say what changed. Corp-level tag
library changes (`change_external_tag`) name no customer and translate to None.

Group callbacks name the chat, not the member's join way: WeCom sends `ChatId`, `UpdateDetail`,
`JoinScene` and `MemChangeCnt` (newer versions add `MemChangeList`), never a `State`; the member's
join-way `state` is only in `groupchat/get`'s member list (`GroupMember`). So a group event needs
the member's external id from the caller (`member`), or from an `ExternalUserID`/`MemChangeList`
field; without it the message translates to None. `joining_members` pairs the members a join
callback is about with what `groupchat/get` says of them, and finds them there when the callback
lists none.

Event ids are derived from the de-duplication key (`dedupe_key`), so a callback WeCom retries
yields the same event id and is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.events import EventIn

CONTACT_ADDED = "wecom.contact_added"
CONTACT_DELETED_BY_CUSTOMER = "wecom.contact_deleted_by_customer"
CONTACT_DELETED_BY_STAFF = "wecom.contact_deleted_by_staff"
GROUP_JOINED = "wecom.group_joined"
GROUP_LEFT = "wecom.group_left"
TAG_CHANGED = "wecom.tag_changed"
MASS_MESSAGE_RESULT = "wecom.mass_message.result"

EVENT_TYPES: tuple[str, ...] = (
    CONTACT_ADDED,
    CONTACT_DELETED_BY_CUSTOMER,
    CONTACT_DELETED_BY_STAFF,
    GROUP_JOINED,
    GROUP_LEFT,
    TAG_CHANGED,
    MASS_MESSAGE_RESULT,
)

EXTERNAL_USERID = "wecom_external_userid"
"""The identity kind of a WeCom external contact."""

# The fields that tell one callback from another; WeCom retries resend them unchanged.
_KEY_FIELDS = (
    "ToUserName",
    "CreateTime",
    "Event",
    "ChangeType",
    "UserID",
    "ExternalUserID",
    "ChatId",
    "UpdateDetail",
    "MemChangeList",
    "Id",
    "TagType",
)


EXTERNAL_MEMBER = 2
"""`GroupMember.type` of an external contact (1 is a staff member)."""
JOIN_TIME_SLACK = 60
"""Seconds a member's `join_time` may precede the callback's CreateTime and still count as the
join the callback reports (used only when the callback lists no members)."""


class GroupMember(BaseModel):
    """A member of a WeCom customer group as `externalcontact/groupchat/get` lists it."""

    model_config = ConfigDict(frozen=True)

    userid: str
    """The staff userid (type 1) or the external userid (type 2)."""
    type: int
    state: str | None = None
    """The `state` of the join way the member came through, if any."""
    join_scene: int | None = None
    join_time: int | None = None
    """Seconds since the epoch."""


class UntranslatableCallback(ValueError):
    """A callback of a kind we translate lacks a field the event needs (named in the message)."""


def dedupe_key(message: Mapping[str, str]) -> str:
    """The identity of a callback: ToUserName, CreateTime, Event, ChangeType and the ids it names."""
    return "|".join(f"{name}={message.get(name, '').strip()}" for name in _KEY_FIELDS)


def event_id_for(key: str, member: str | None = None) -> str:
    """The deterministic event id of a callback (and of one member, for group callbacks)."""
    digest = hashlib.sha256(key.encode("utf-8"))
    if member is not None:
        digest.update(b"\x00" + member.encode("utf-8"))
    return f"wecom_{digest.hexdigest()[:40]}"


def kind_of(message: Mapping[str, str]) -> str:
    """`Event/ChangeType[/UpdateDetail]`, for logs and records (never customer data)."""
    parts = [message.get("Event", "") or message.get("MsgType", ""), message.get("ChangeType", "")]
    if message.get("UpdateDetail"):
        parts.append(message["UpdateDetail"])
    return "/".join(part for part in parts if part) or "unknown"


def occurred_at(message: Mapping[str, str]) -> datetime:
    """The callback's CreateTime (seconds since the epoch) as a UTC datetime."""
    raw = message.get("CreateTime", "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise UntranslatableCallback("CreateTime must be seconds since the epoch")
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        raise UntranslatableCallback("CreateTime is out of range") from None


def group_members(message: Mapping[str, str]) -> list[str]:
    """External ids of the members a group callback names itself (possibly none)."""
    single = message.get("ExternalUserID", "").strip()
    if single:
        return [single]
    listed = message.get("MemChangeList", "")
    return [item for item in (part.strip() for part in listed.replace(";", ",").split(",")) if item]


def joining_members(
    message: Mapping[str, str], listed: Sequence[GroupMember] | None
) -> list[tuple[str, GroupMember | None]]:
    """The members an `add_member` callback is about, each with its `groupchat/get` entry.

    `listed` is the group's member list (None when it could not be looked up). The callback's
    own member ids come first; when it names none, the external members of `listed` who joined
    from `JOIN_TIME_SLACK` seconds before its CreateTime on, latest first, at most
    `MemChangeCnt` of them (a guess WeCom's older callbacks leave no way around).
    """
    by_id = {member.userid: member for member in listed or ()}
    named = group_members(message)
    if named or not listed:
        return [(userid, by_id.get(userid)) for userid in named]
    since = int(occurred_at(message).timestamp()) - JOIN_TIME_SLACK
    recent = sorted(
        (
            m
            for m in listed
            if m.type == EXTERNAL_MEMBER and m.join_time is not None and m.join_time >= since
        ),
        key=lambda m: m.join_time or 0,
        reverse=True,
    )
    count = _int_or_none(message.get("MemChangeCnt"))
    if count is not None and count >= 0:
        recent = recent[:count]
    return [(m.userid, m) for m in recent]


def translate(
    message: Mapping[str, str],
    corp_id: str,
    *,
    hook_id: str | None = None,
    member: str | None = None,
    member_state: str | None = None,
    member_join_scene: int | None = None,
) -> EventIn | None:
    """The event of a callback, or None for kinds journeys do not react to.

    `hook_id` is the hook whose `state` the contact-added or group-joined callback carries
    (resolved by the caller; None when the state names no hook — the raw `state` is kept either
    way). For group callbacks `member` picks the member the event is about (default: the one the
    message names); `member_state` and `member_join_scene` are that member's join-way state and
    join scene when the caller looked them up (the callback's `JoinScene` wins when present).
    Raises `UntranslatableCallback` when a known kind lacks a field it needs.
    """
    event = message.get("Event", "")
    change = message.get("ChangeType", "")
    if event == "change_external_contact":
        return _contact_event(message, corp_id, change, hook_id)
    if event == "change_external_chat" and change == "update":
        detail = message.get("UpdateDetail", "")
        if detail in ("add_member", "del_member"):
            looked_up = (member_state, member_join_scene)
            return _group_event(message, corp_id, detail, member, looked_up, hook_id)
    return None


def _contact_event(
    message: Mapping[str, str], corp_id: str, change: str, hook_id: str | None
) -> EventIn | None:
    properties: dict[str, Any] = {"corp_id": corp_id, "staff_userid": _required(message, "UserID")}
    if change in ("add_external_contact", "add_half_external_contact"):
        event_type = CONTACT_ADDED
        state = message.get("State", "").strip()
        properties["state"] = state or None
        properties["hook_id"] = hook_id
        properties["welcome_code"] = message.get("WelcomeCode", "").strip() or None
        properties["half"] = change == "add_half_external_contact"
    elif change == "del_follow_user":
        event_type = CONTACT_DELETED_BY_CUSTOMER
    elif change == "del_external_contact":
        event_type = CONTACT_DELETED_BY_STAFF
        if message.get("Source"):
            properties["source"] = message["Source"]
    elif change == "edit_external_contact":
        event_type = TAG_CHANGED
    else:
        return None
    external = _required(message, "ExternalUserID")
    return _event(message, event_type, external, properties, None)


def _group_event(
    message: Mapping[str, str],
    corp_id: str,
    detail: str,
    member: str | None,
    looked_up: tuple[str | None, int | None],
    hook_id: str | None,
) -> EventIn | None:
    if member is None:
        named = group_members(message)
        if not named:
            return None
        member = named[0]
    properties: dict[str, Any] = {"corp_id": corp_id, "chat_id": _required(message, "ChatId")}
    if detail == "add_member":
        event_type = GROUP_JOINED
        member_state, member_join_scene = looked_up
        scene = _int_or_none(message.get("JoinScene"))
        properties["join_scene"] = member_join_scene if scene is None else scene
        state = member_state if member_state is not None else message.get("State", "").strip()
        properties["state"] = state or None
        properties["hook_id"] = hook_id
    else:
        event_type = GROUP_LEFT
        properties["quit_scene"] = _int_or_none(message.get("QuitScene"))
    properties["member_change_count"] = _int_or_none(message.get("MemChangeCnt"))
    return _event(message, event_type, member, properties, member)


def _event(
    message: Mapping[str, str],
    event_type: str,
    external_userid: str,
    properties: dict[str, Any],
    member: str | None,
) -> EventIn:
    return EventIn(
        id=event_id_for(dedupe_key(message), member),
        type=event_type,
        identity={EXTERNAL_USERID: external_userid},
        timestamp=occurred_at(message),
        properties=properties,
    )


def _required(message: Mapping[str, str], name: str) -> str:
    value = message.get(name, "").strip()
    if not value:
        raise UntranslatableCallback(f"a {kind_of(message)} callback needs {name}")
    return value


def _int_or_none(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    # ASCII digits after at most one minus: `int` refuses `--1` and `²`, which `isdigit` allows.
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        return None
    return int(text)
