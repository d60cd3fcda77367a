"""WeChat callbacks as events: a pure translation of a decrypted OA or mini-program message.

A message arrives as a `WeChatMessage`: the flat fields of its XML (tag → text) and, for the
subscription events, the entries of its `List` elements. `translate` answers the events a journey
reacts to; other kinds answer [] (the caller records and acknowledges them).

| app         | message (`Event`)                                   | event                               |
|-------------|-----------------------------------------------------|-------------------------------------|
| oa          | `subscribe` (`EventKey` `qrscene_<scene>` or none)  | `oa.followed` (`scene`)             |
| oa          | `SCAN` (`EventKey` `<scene>`, already a follower)   | `oa.scanned` (`scene`)              |
| oa          | `unsubscribe`                                       | `oa.unfollowed`                     |
| oa          | `TEMPLATESENDJOBFINISH` `Status` `success`          | `oa.template_delivered` (`msgid`)   |
| oa          | `TEMPLATESENDJOBFINISH` other `Status`              | `oa.template_failed` (`msgid`, `status`) |
| miniprogram | `subscribe_msg_popup_event`, one per `accept`ed template | `miniprogram.subscribe_authorized` (`template_id`) |
| miniprogram | `subscribe_msg_sent_event`, one per entry           | `miniprogram.subscribe_delivered` / `miniprogram.subscribe_failed` (`msgid`, `error_code`) |

The customer is the sender (`FromUserName`): the `wechat_openid` (OA) or `miniprogram_openid`
identity; a message that also carries a `UnionId` names the `unionid` identity too, which links
the customer's OA and mini-program records. Event ids derive from the de-duplication key
(`dedupe_key`), so a callback WeChat retries is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.customers import MINIPROGRAM_OPENID, UNIONID, WECHAT_OPENID
from domain.events import EventIn
from domain.wechat import MINIPROGRAM, OA

FOLLOWED = "oa.followed"
SCANNED = "oa.scanned"
UNFOLLOWED = "oa.unfollowed"
TEMPLATE_DELIVERED = "oa.template_delivered"
TEMPLATE_FAILED = "oa.template_failed"
SUBSCRIBE_AUTHORIZED = "miniprogram.subscribe_authorized"
SUBSCRIBE_DELIVERED = "miniprogram.subscribe_delivered"
SUBSCRIBE_FAILED = "miniprogram.subscribe_failed"

EVENT_TYPES: tuple[str, ...] = (
    FOLLOWED,
    SCANNED,
    UNFOLLOWED,
    TEMPLATE_DELIVERED,
    TEMPLATE_FAILED,
    SUBSCRIBE_AUTHORIZED,
    SUBSCRIBE_DELIVERED,
    SUBSCRIBE_FAILED,
)

QR_SCENE_PREFIX = "qrscene_"
POPUP_EVENT = "subscribe_msg_popup_event"
SENT_EVENT = "subscribe_msg_sent_event"
_KEY_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "Event", "EventKey", "MsgID")


class UntranslatableMessageError(ValueError):
    """A message of a kind we translate lacks a field the event needs (named in the message)."""


@dataclass(frozen=True)
class WeChatMessage:
    """A decrypted message: its flat fields and the entries of its `List` elements."""

    fields: dict[str, str]
    entries: list[dict[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str:
        """The field's text, stripped ('' when absent)."""
        return self.fields.get(name, "").strip()


def identity_kind(app: str) -> str:
    """The identity kind of a sender's openid under `app` (`oa` or `miniprogram`)."""
    return WECHAT_OPENID if app == OA else MINIPROGRAM_OPENID


def dedupe_key(app: str, message: WeChatMessage) -> str:
    """The identity of a callback: the app kind, the sender, its time, event and ids."""
    parts = [f"app={app}"] + [f"{name}={message.get(name)}" for name in _KEY_FIELDS]
    parts += [
        f"entry={entry.get('TemplateId', '')}/{entry.get('MsgID', '')}" for entry in message.entries
    ]
    return "|".join(parts)


def kind_of(message: WeChatMessage) -> str:
    """`MsgType/Event`, for logs and records (never customer data)."""
    return "/".join(p for p in (message.get("MsgType"), message.get("Event")) if p) or "unknown"


def scene_of(message: WeChatMessage) -> str | None:
    """The parametric QR scene a follow or scan carries, or None (a plain follow)."""
    key = message.get("EventKey")
    if message.get("Event") != "subscribe":
        return key or None  # SCAN: the scene itself
    if not key.startswith(QR_SCENE_PREFIX):
        return None  # a follow from search or a profile card carries no scene
    return key[len(QR_SCENE_PREFIX) :] or None


def translate(app: str, appid: str, message: WeChatMessage) -> list[EventIn]:
    """The events of a message (module docstring); `UntranslatableMessageError` when a known
    kind lacks a field it needs."""
    event = message.get("Event")
    if app == OA:
        return _oa_events(appid, event, message)
    if app == MINIPROGRAM:
        return _miniprogram_events(appid, event, message)
    return []


def _oa_events(appid: str, event: str, message: WeChatMessage) -> list[EventIn]:
    properties: dict[str, Any] = {"appid": appid}
    if event in ("subscribe", "SCAN"):
        properties["scene"] = scene_of(message)
        ticket = message.get("Ticket")
        if ticket:
            properties["ticket"] = ticket
        return [_event(OA, message, FOLLOWED if event == "subscribe" else SCANNED, properties)]
    if event == "unsubscribe":
        return [_event(OA, message, UNFOLLOWED, properties)]
    if event == "TEMPLATESENDJOBFINISH":
        properties["msgid"] = _required(message.fields, "MsgID")
        status = message.get("Status")
        properties["status"] = status
        kind = TEMPLATE_DELIVERED if status == "success" else TEMPLATE_FAILED
        return [_event(OA, message, kind, properties)]
    return []


def _miniprogram_events(appid: str, event: str, message: WeChatMessage) -> list[EventIn]:
    events = []
    if event == POPUP_EVENT:
        for index, entry in enumerate(message.entries):
            if entry.get("SubscribeStatusString", "").strip() != "accept":
                continue
            template_id = _required(entry, "TemplateId")
            granted: dict[str, Any] = {"appid": appid, "template_id": template_id}
            scene = entry.get("PopupScene", "").strip()
            if scene:
                granted["popup_scene"] = scene
            events.append(_event(MINIPROGRAM, message, SUBSCRIBE_AUTHORIZED, granted, index))
    elif event == SENT_EVENT:
        for index, entry in enumerate(message.entries):
            code = entry.get("ErrorCode", "").strip()
            properties: dict[str, Any] = {
                "appid": appid,
                "template_id": _required(entry, "TemplateId"),
                "msgid": _required(entry, "MsgID"),
                "error_code": int(code) if code.lstrip("-").isdigit() else None,
                "error_status": entry.get("ErrorStatus", "").strip(),
            }
            kind = SUBSCRIBE_DELIVERED if code == "0" else SUBSCRIBE_FAILED
            events.append(_event(MINIPROGRAM, message, kind, properties, index))
    return events


def accepted_templates(message: WeChatMessage) -> list[str]:
    """The template ids a popup event says the user accepted (once per acceptance)."""
    if message.get("Event") != POPUP_EVENT:
        return []
    return [
        entry.get("TemplateId", "").strip()
        for entry in message.entries
        if entry.get("SubscribeStatusString", "").strip() == "accept"
        and entry.get("TemplateId", "").strip()
    ]


def occurred_at(message: WeChatMessage) -> datetime:
    """The message's CreateTime (seconds since the epoch) as a UTC datetime."""
    raw = message.get("CreateTime")
    if not (raw.isascii() and raw.isdigit()):
        raise UntranslatableMessageError("CreateTime must be seconds since the epoch")
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        raise UntranslatableMessageError("CreateTime is out of range") from None


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise UntranslatableMessageError(f"{name} is missing")
    return value


def _event(
    app: str,
    message: WeChatMessage,
    event_type: str,
    properties: dict[str, Any],
    index: int | None = None,
) -> EventIn:
    identity = {identity_kind(app): _required(message.fields, "FromUserName")}
    unionid = message.get("UnionId")
    if unionid:
        identity[UNIONID] = unionid
    digest = hashlib.sha256(dedupe_key(app, message).encode("utf-8"))
    if index is not None:
        digest.update(f"\x00{index}".encode())
    properties["create_time"] = int(occurred_at(message).timestamp())
    return EventIn(
        id=f"wechat_{digest.hexdigest()[:40]}",
        type=event_type,
        identity=identity,
        timestamp=occurred_at(message),
        properties=properties,
    )
