"""Shop orders → `order.paid` / `order.refunded` events.

The order webhook's body (`POST /v1/sources/orders/{callback_id}`, `api.rest.sources`) is one
order message, JSON:

    {"type": "order.paid" | "order.refunded",
     "order_id": "E2026...",                 -- the shop's order number
     "refund_id": "R1",                      -- refunds only: the shop's refund number
     "occurred_at": "2026-12-07T10:00:00+08:00",
     "amount": 12900,                        -- integer fen (cents): paid, or refunded
     "currency": "CNY",                      -- optional, default CNY
     "full": true,                           -- refunds only, optional: nothing of the order is left
     "items": [{"sku": "A1", "name": "...", "quantity": 1, "price": 12900}],
     "buyer": {"phone": "...", "unionid": "...", "openid": "...", "external_userid": "..."}}

At least one buyer identity is needed; `external_userid` is the WeCom external contact id
(`wecom_external_userid`). Event ids: `order:<order_id>:paid`, `order:<order_id>:refund:<refund_id>`,
so a message sent again is stored once. Properties: `order_id`, `amount`, `currency`, `items`
(and `refund_id`, `full`), which the purchase metrics read (`domain.metrics.definitions`).

Youzan (有赞) push, read by `youzan_orders`: the body's `type` `TRADE_ORDER_STATE` with `status`
`WAIT_SELLER_SEND_GOODS` (paid, awaiting shipment) or `TRADE_PAID` → `order.paid`;
`TRADE_ORDER_REFUND` with `status` `REFUND_SUCCESS` or `SUCCESS` → `order.refunded`; any other
message is acknowledged and ignored. Its `msg` is URL-encoded JSON; the fields read are those of
Youzan's trade detail: `full_order_info.order_info.tid`, `.pay_info.payment` (yuan, a decimal
string), `.buyer_info.buyer_phone` / `.union_id` / `.outer_user_id` (openid), `.orders[]`
(`title`, `num`, `price`, `sku_id`, `outer_sku_id`), `.order_info.pay_time`
(`YYYY-MM-DD HH:MM:SS`, Beijing time); for refunds `tid`, `refund_id`, `refunded_fee` (yuan) and
`update_time`. A refund message naming no buyer is given the identities of the paid order it
refunds (`youzan_paid_event_id`), by the service that stores it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from domain.customers import EXTERNAL_USERID, OPENID, PHONE, UNIONID
from domain.events import ORDER_PAID, ORDER_REFUNDED
from domain.sources.fields import beijing_time, text

BUYER_IDENTITIES = {
    "phone": PHONE,
    "unionid": UNIONID,
    "openid": OPENID,
    "external_userid": EXTERNAL_USERID,
}
"""Buyer fields of the order webhook → identity kinds."""


class NotAnOrderError(ValueError):
    """The message cannot be read as an order (the message says why; nothing is stored)."""


def _fen(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NotAnOrderError(f"{path} must be a non-negative integer (fen)")
    return value


def _yuan_to_fen(value: Any, path: str) -> int:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise NotAnOrderError(f"{path} must be an amount in yuan") from exc
    if not amount.is_finite() or amount < 0:
        raise NotAnOrderError(f"{path} must be an amount in yuan")
    return int((amount * 100).to_integral_value())


def _order_event(
    kind: str,
    event_id: str,
    identity: dict[str, str],
    occurred_at: str,
    properties: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "identity": identity,
        "timestamp": occurred_at,
        "properties": properties,
    }


def webhook_orders(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The event of one order webhook message (module docstring); `NotAnOrderError` when the
    message is malformed."""
    kind = body.get("type")
    if kind not in (ORDER_PAID, ORDER_REFUNDED):
        raise NotAnOrderError(f"type must be {ORDER_PAID!r} or {ORDER_REFUNDED!r}")
    order_id = text(body.get("order_id"))
    if order_id is None:
        raise NotAnOrderError("order_id is required")
    occurred_at = body.get("occurred_at")
    if not isinstance(occurred_at, str):
        raise NotAnOrderError("occurred_at must be an ISO 8601 time with a time zone")
    currency = body.get("currency", "CNY")
    if not isinstance(currency, str) or not currency:
        raise NotAnOrderError("currency must be a currency code")
    buyer = body.get("buyer")
    if not isinstance(buyer, Mapping):
        raise NotAnOrderError("buyer must be an object")
    identity = {
        kind_: value
        for field, kind_ in BUYER_IDENTITIES.items()
        if (value := text(buyer.get(field))) is not None
    }
    if not identity:
        raise NotAnOrderError("buyer needs one of phone, unionid, openid, external_userid")
    items = body.get("items", [])
    if not isinstance(items, list):
        raise NotAnOrderError("items must be a list")
    properties: dict[str, Any] = {
        "order_id": order_id,
        "amount": _fen(body.get("amount"), "amount"),
        "currency": currency,
        "items": items,
    }
    if kind == ORDER_PAID:
        event_id = f"order:{order_id}:paid"
    else:
        refund_id = text(body.get("refund_id"))
        if refund_id is None:
            raise NotAnOrderError("refund_id is required for a refund")
        full = body.get("full", False)
        if not isinstance(full, bool):
            raise NotAnOrderError("full must be true or false")
        properties |= {"refund_id": refund_id, "full": full}
        event_id = f"order:{order_id}:refund:{refund_id}"
    return [_order_event(kind, event_id, identity, occurred_at, properties)]


YOUZAN_PAID = {("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS"), ("TRADE_ORDER_STATE", "TRADE_PAID")}
YOUZAN_REFUNDED = {("TRADE_ORDER_REFUND", "REFUND_SUCCESS"), ("TRADE_ORDER_REFUND", "SUCCESS")}


def _part(whole: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    part = whole.get(name)
    return part if isinstance(part, Mapping) else {}


def youzan_paid_event_id(tid: str) -> str:
    """The id of the `order.paid` event of Youzan trade `tid` (unique on Youzan). Only what the
    signature covers (`msg`) names an event: the envelope's `kdt_id` is not signed, so a
    replayed `msg` under another `kdt_id` is the same event, stored once."""
    return f"youzan:{tid}:paid"


def youzan_message(msg: str) -> dict[str, Any]:
    """The JSON object a Youzan push's `msg` (URL-encoded JSON) holds."""
    try:
        decoded = json.loads(unquote(msg))
    except ValueError as exc:
        raise NotAnOrderError("msg is not URL-encoded JSON") from exc
    if not isinstance(decoded, dict):
        raise NotAnOrderError("msg must hold a JSON object")
    return decoded


def youzan_orders(envelope: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The events of a verified Youzan push (module docstring); none for other messages."""
    key = (envelope.get("type"), envelope.get("status"))
    if key not in YOUZAN_PAID and key not in YOUZAN_REFUNDED:
        return []
    msg = envelope.get("msg")
    message = youzan_message(msg if isinstance(msg, str) else "")
    shop = text(envelope.get("kdt_id")) or "shop"
    if key in YOUZAN_PAID:
        full = message.get("full_order_info", message)
        if not isinstance(full, Mapping):
            raise NotAnOrderError("full_order_info must be an object")
        info, pay, buyer = (_part(full, name) for name in ("order_info", "pay_info", "buyer_info"))
        tid = text(info.get("tid"))
        if tid is None:
            raise NotAnOrderError("the trade has no tid")
        identity = {
            kind: value
            for field, kind in (
                ("buyer_phone", PHONE),
                ("union_id", UNIONID),
                ("outer_user_id", OPENID),
            )
            if (value := text(buyer.get(field))) is not None
        }
        listed = full.get("orders")
        orders: list[Any] = listed if isinstance(listed, list) else []
        items = [
            {
                "sku": text(o.get("outer_sku_id")) or text(o.get("sku_id")),
                "name": text(o.get("title")),
                "quantity": o.get("num") if isinstance(o.get("num"), int) else 1,
                "price": _yuan_to_fen(o.get("price", "0"), "orders[].price"),
            }
            for o in orders
            if isinstance(o, Mapping)
        ]
        properties = {
            "order_id": tid,
            "amount": _yuan_to_fen(pay.get("payment"), "pay_info.payment"),
            "currency": "CNY",
            "items": items,
            "shop": "youzan",
            "kdt_id": shop,
        }
        at = beijing_time(info.get("pay_time"), now).isoformat()
        return [_order_event(ORDER_PAID, youzan_paid_event_id(tid), identity, at, properties)]
    tid = text(message.get("tid")) or text(envelope.get("id"))
    refund_id = text(message.get("refund_id"))
    if tid is None or refund_id is None:
        raise NotAnOrderError("the refund needs tid and refund_id")
    identity = {
        kind: value
        for field, kind in (
            ("buyer_phone", PHONE),
            ("union_id", UNIONID),
            ("outer_user_id", OPENID),
        )
        if (value := text(message.get(field))) is not None
    }
    properties = {
        "order_id": tid,
        "refund_id": refund_id,
        "amount": _yuan_to_fen(message.get("refunded_fee"), "refunded_fee"),
        "currency": "CNY",
        "full": False,
        "shop": "youzan",
        "kdt_id": shop,
    }
    at = beijing_time(message.get("update_time"), now).isoformat()
    event_id = f"youzan:{tid}:refund:{refund_id}"
    return [_order_event(ORDER_REFUNDED, event_id, identity, at, properties)]
