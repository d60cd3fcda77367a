"""Helpers of the source push tests: pushes signed as each platform signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from store.mongo import CUSTOMERS, EVENTS

DOUYIN_SECRET = "douyin-client-secret"
XHS_TOKEN = "xhs-landing-token"
YOUZAN_CLIENT = "yz-client-id"
YOUZAN_SECRET = "yz-client-secret"


def douyin_clue(clue_id: str = "7301", phone: str = "+86 138-0013-8000", **extra: Any) -> bytes:
    """A Douyin push of one clue, as bytes."""
    clue = {
        "clue_id": clue_id,
        "telephone": phone,
        "name": "王小明",
        "city_name": "上海",
        "advertiser_id": "1700000001",
        "ad_id": "1781234567",
        "campaign_id": "1779000000",
        "creative_id": "1790000001",
        "create_time": "2026-12-07 09:30:00",
        **extra,
    }
    envelope = {
        "event": "clue_push",
        "client_key": "aw-client",
        "content": json.dumps(clue, ensure_ascii=False),
        "log_id": "2026120709300001",
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


def douyin_headers(body: bytes, secret: str = DOUYIN_SECRET) -> dict[str, str]:
    signature = hashlib.sha1(secret.encode() + body, usedforsecurity=False).hexdigest()
    return {"X-Douyin-Signature": signature, "Msg-Id": "m-1", "Content-Type": "application/json"}


def xhs_lead(leads_id: str = "L-1", phone: str = "13900139000") -> bytes:
    body = {
        "data": {
            "leads_id": leads_id,
            "account_id": "acc-9",
            "campaign_id": "c-77",
            "unit_id": "u-5",
            "creative_id": "cr-3",
            "submitted_time": "2026-12-07 10:00:00",
            "data": [
                {"label": "姓名", "value": "李雷"},
                {"label": "手机号", "value": phone},
                {"label": "城市", "value": "杭州"},
            ],
        },
        "timestamp": 1765072800000,
        "source": "聚光",
    }
    return json.dumps(body, ensure_ascii=False).encode()


def xhs_headers(body: bytes, token: str = XHS_TOKEN) -> dict[str, str]:
    mac = hmac.new(token.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Red-Signature": f"sha1={mac}", "Content-Type": "application/json"}


def order(
    kind: str = "order.paid", order_id: str = "E1", amount: int = 12900, **extra: Any
) -> bytes:
    body = {
        "type": kind,
        "order_id": order_id,
        "occurred_at": "2026-12-07T10:00:00+08:00",
        "amount": amount,
        "currency": "CNY",
        "items": [{"sku": "A1", "name": "拿铁", "quantity": 1, "price": amount}],
        "buyer": {"phone": "13800138000"},
        **extra,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def order_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    sent = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), sent.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-Omnijourney-Timestamp": sent,
        "X-Omnijourney-Signature": f"sha256={mac}",
        "Content-Type": "application/json",
    }


def youzan_push(kind: str, status: str, message: dict[str, Any], **extra: Any) -> bytes:
    msg = quote(json.dumps(message, ensure_ascii=False))
    sign = hashlib.md5(
        (YOUZAN_CLIENT + msg + YOUZAN_SECRET).encode(), usedforsecurity=False
    ).hexdigest()
    body = {
        "client_id": YOUZAN_CLIENT,
        "id": "E2026",
        "kdt_id": 55,
        "type": kind,
        "status": status,
        "msg": msg,
        "sign": sign,
        "mode": 1,
        "test": False,
        "version": 1765072800,
        "send_count": 0,
        **extra,
    }
    return json.dumps(body).encode()


async def counts(db: AsyncDatabase[dict[str, Any]]) -> tuple[int, int]:
    """(events, customers) stored, all tenants."""
    return (
        await db[EVENTS].count_documents({}),
        await db[CUSTOMERS].count_documents({}),
    )


async def push(
    client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(path, content=body, headers=headers)
