"""Verified pushes → events (`domain.sources.leads`, `domain.sources.orders`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from domain import routing
from domain.events import EventIn
from domain.journey import Edge, EntryNode, ExitNode, HookTrigger, JourneyDefinition
from domain.sources import leads, orders

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_every_clue_of_a_douyin_push_is_a_valid_lead_event() -> None:
    content = {
        "clues": [
            {"clue_id": 1, "telephone": "13800138000", "promotion_id": 99, "project_id": 7},
            {"clue_id": "2", "telephone": "13900139000", "advertiser_id": "adv"},
            {"no_clue": True},
        ]
    }
    events = leads.douyin_leads({"event": "clue_push", "content": json.dumps(content)}, NOW)
    assert [e["id"] for e in events] == ["douyin:1", "douyin:2"]
    first, second = (EventIn.parse(e, now=NOW) for e in events)
    assert first.properties["state"] == "douyin:99"  # the ad (a promotion, in newer accounts)
    assert first.properties["attribution"] == {
        "platform": "douyin",
        "ad_id": "99",
        "campaign_id": "7",
    }
    assert second.properties["state"] == "douyin:adv"  # no ad: the advertiser
    assert first.timestamp == NOW  # no create_time: when it was received


def test_a_douyin_push_without_a_clue_is_no_lead_and_a_clue_without_a_phone_is_refused() -> None:
    assert leads.douyin_leads({"event": "other", "content": {"order": 1}}, NOW) == []
    with pytest.raises(leads.NotALeadError, match="telephone"):
        leads.douyin_leads({"content": {"clue_id": "9"}}, NOW)
    with pytest.raises(leads.NotALeadError):
        leads.douyin_leads({"content": "{not json"}, NOW)


def test_douyins_url_check_is_recognised_by_its_event() -> None:
    assert leads.douyin_challenge({"event": "verify_webhook", "content": {"challenge": 7}}) == 7
    assert leads.douyin_challenge({"event": "verify_webhook", "content": '{"challenge": 8}'}) == 8
    assert leads.douyin_challenge({"event": "clue_push", "content": {"challenge": 7}}) is None


def test_a_xiaohongshu_lead_reads_its_answers_by_label() -> None:
    body = {
        "data": {
            "leads_id": "L9",
            "account_id": "acc",
            "submitted_time": "2026-12-07 08:00:00",
            "data": [
                {"label": "您的手机", "value": "+86 137 0000 0000"},
                {"label": "Name", "value": "Amy"},
                {"label": "预算", "value": "5000"},
            ],
        }
    }
    [raw] = leads.xiaohongshu_leads(body, NOW)
    event = EventIn.parse(raw, now=NOW)
    assert event.identity == {"phone": "13700000000"}
    assert event.properties["name"] == "Amy"
    assert event.properties["form"]["预算"] == "5000"
    assert event.properties["state"] == "xiaohongshu:acc"
    assert event.timestamp == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    with pytest.raises(leads.NotALeadError, match="phone"):
        leads.xiaohongshu_leads({"data": {"leads_id": "L1", "data": []}}, NOW)


def test_an_order_webhook_message_maps_the_buyers_identities() -> None:
    body = {
        "type": "order.paid",
        "order_id": 42,
        "occurred_at": "2026-12-07T10:00:00+08:00",
        "amount": 100,
        "buyer": {"openid": "o-open", "external_userid": "wm1", "nickname": "ignored"},
    }
    [raw] = orders.webhook_orders(body)
    event = EventIn.parse(raw, now=NOW)
    assert event.id == "order:42:paid"
    assert event.identity == {"openid": "o-open", "wecom_external_userid": "wm1"}
    assert event.properties == {"order_id": "42", "amount": 100, "currency": "CNY", "items": []}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "order.shipped"}, "type"),
        ({"amount": 1.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"order_id": ""}, "order_id"),
        ({"type": "order.refunded"}, "refund_id"),
        ({"type": "order.refunded", "refund_id": "R", "full": "yes"}, "full"),
        ({"items": {}}, "items"),
    ],
)
def test_a_malformed_order_message_says_what_is_wrong(
    change: dict[str, object], reason: str
) -> None:
    body = {
        "type": "order.paid",
        "order_id": "E1",
        "occurred_at": "2026-12-07T10:00:00+08:00",
        "amount": 100,
        "buyer": {"phone": "13800138000"},
        **change,
    }
    with pytest.raises(orders.NotAnOrderError, match=reason):
        orders.webhook_orders(body)


def test_youzan_messages_other_than_paid_or_refunded_are_ignored() -> None:
    envelope = {"type": "TRADE_ORDER_STATE", "status": "WAIT_BUYER_PAY", "msg": quote("{}")}
    assert orders.youzan_orders(envelope, NOW) == []
    envelope = {"type": "ITEM_STATE", "status": "x", "msg": "%7B"}
    assert orders.youzan_orders(envelope, NOW) == []


def test_a_youzan_payment_in_yuan_becomes_fen() -> None:
    trade = {"full_order_info": {"order_info": {"tid": "T1"}, "pay_info": {"payment": "0.1"}}}
    envelope = {
        "type": "TRADE_ORDER_STATE",
        "status": "TRADE_PAID",
        "kdt_id": 1,
        "msg": quote(json.dumps(trade)),
    }
    [event] = orders.youzan_orders(envelope, NOW)
    assert event["properties"]["amount"] == 10
    assert event["id"] == orders.youzan_paid_event_id("T1")


def test_a_lead_enters_a_hook_journey_of_its_ad_and_notes_the_hook() -> None:
    [raw] = leads.douyin_leads({"content": {"clue_id": "1", "telephone": "1", "ad_id": "77"}}, NOW)
    definition = JourneyDefinition(
        nodes=[
            EntryNode(
                id="start",
                trigger=HookTrigger(hook="douyin:77", event_type=leads.LEAD_CREATED),
            ),
            ExitNode(id="done"),
        ],
        edges=[Edge(source="start", target="done")],
    )
    decision = routing.entry("jrn", 1, definition, raw["properties"])
    assert isinstance(decision, routing.Enter)
    assert decision.first_touch_hook == "douyin:77"
    other = leads.douyin_leads({"content": {"clue_id": "2", "telephone": "1", "ad_id": "78"}}, NOW)
    assert routing.entry("jrn", 1, definition, other[0]["properties"]) is None
