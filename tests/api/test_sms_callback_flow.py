"""The `sms` channel end to end through the public API, on the simulator over real HTTP and the
real app, MongoDB, Temporal dev server and workers: an admin sets the account with
`configureSms`, a journey with an `sms.send` action is published, an event is ingested, the
simulator receives the signed SMS, and its delivery report (pushed in the provider's format to
the callback URL) comes back as an `sms.delivered` event that the journey waits for. Replies,
failed reports and forged pushes too."""

from __future__ import annotations

from typing import Any

import pytest

from domain.sms import SmsProvider
from tests.api.sms_flow import TEMPLATES, Flow, flow, sms_journey
from tests.api.support import event, eventually, post_events, published_journey

__all__ = ["flow"]  # the fixture, shared from tests.api.sms_flow


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_a_journey_sms_is_sent_and_its_delivery_report_comes_back_as_an_event(
    flow: Flow, provider: SmsProvider
) -> None:
    phone = "13800138001"
    sms, driver = await flow.send_one(provider, phone)
    assert (sms.provider, sms.template, sms.sign_name) == (provider, TEMPLATES[provider], "Acme")
    assert flow.sim.rejected == []

    pushed = await driver.report(sms)
    assert pushed.status == 200
    assert pushed.body == (
        {"code": 0, "msg": "接收成功"} if provider == "aliyun" else {"result": 0, "errmsg": "OK"}
    )
    await flow.drain()

    [delivered] = await flow.events(phone, "sms.delivered")
    assert delivered.properties["message_id"] == sms.message_id
    assert delivered.properties["reference"] == sms.reference
    assert delivered.properties["node_id"] == "sms_welcome"
    ended = await flow.ended(phone)
    assert (ended.status, ended.exit_reason) == ("exited", "delivered")

    again = await driver.report(sms)  # the provider retries: nothing new is stored
    assert again.status == 200
    await flow.drain()
    assert len(await flow.events(phone, "sms.delivered")) == 1


async def test_a_failed_report_is_an_sms_failed_event_with_the_providers_code(flow: Flow) -> None:
    phone = "13800138002"
    sms, driver = await flow.send_one("tencent", phone)
    pushed = await driver.report(sms, delivered=False, error_code="MK:0001")
    assert pushed.status == 200
    await flow.drain()
    [failed] = await flow.events(phone, "sms.failed")
    assert failed.properties["error_code"] == "MK:0001"
    assert await flow.events(phone, "sms.delivered") == []


@pytest.mark.parametrize(
    ("provider", "tamper"),
    [
        ("aliyun", "message id"),
        ("aliyun", "phone"),
        ("aliyun", "reference"),  # Tencent's report carries no reference
        ("tencent", "message id"),
        ("tencent", "phone"),
    ],
)
async def test_a_tampered_report_is_rejected_and_nothing_is_stored(
    flow: Flow, provider: SmsProvider, tamper: str
) -> None:
    phone = "13800138003"
    sms, driver = await flow.send_one(provider, phone)
    body = driver.report_body(sms)
    entry = body[0]
    if tamper == "message id":
        entry["biz_id" if provider == "aliyun" else "sid"] = sms.message_id + "0"
    elif tamper == "phone":
        entry["phone_number" if provider == "aliyun" else "mobile"] = "13900139000"
    else:
        entry["out_id"] = "f" * 32
    pushed = await driver.push(body)
    assert pushed.status == 403
    await flow.drain()
    assert await flow.events(phone, "sms.delivered") == []
    assert (
        await flow.store.customers.get_by_identity(flow.tenant.tenant_id, "phone", "13900139000")
        is None
    )


async def test_a_push_to_an_unknown_callback_url_or_provider_is_refused(flow: Flow) -> None:
    phone = "13800138004"
    sms, driver = await flow.send_one("aliyun", phone)
    body = driver.report_body(sms)
    good = driver.callback_url
    for url in (
        good[:-3] + "xyz",  # another callback id
        good.replace("/aliyun/", "/tencent/"),  # the tenant's provider is aliyun
        good.replace("/aliyun/", "/other/"),
    ):
        response = await flow.api.post(url, json=body)
        assert response.status_code == 404, url
    malformed = await flow.api.post(good, content=b"{not json")
    assert malformed.status_code == 400
    oversized = await flow.api.post(good, content=b"[" + b" " * 300_000 + b"]")
    assert oversized.status_code == 413
    await flow.drain()
    assert await flow.events(phone, "sms.delivered") == []


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_an_unsubscribe_reply_opts_the_customer_out_of_sms(
    flow: Flow, provider: SmsProvider
) -> None:
    phone = "13800138005"
    _, driver = await flow.send_one(provider, phone)
    chat = await driver.reply(provider, phone, "hello")
    assert chat.status == 200
    await flow.drain()
    assert "sms" not in (await flow.customer(phone)).consent

    stop = await driver.reply(provider, phone, " td ")
    assert stop.status == 200
    await flow.drain()
    replies = await flow.events(phone, "sms.replied")
    assert sorted(e.properties["text"] for e in replies) == [" td ", "hello"]
    consent = (await flow.customer(phone)).consent["sms"]
    assert (consent.status, consent.source) == ("opted_out", "sms_reply")
    assert consent.at is not None


async def test_a_reply_from_a_number_never_sent_to_is_rejected(flow: Flow) -> None:
    _, driver = await flow.send_one("aliyun", "13800138006")
    pushed = await driver.reply("aliyun", "13700137000", "TD")
    assert pushed.status == 403
    await flow.drain()
    assert (
        await flow.store.customers.get_by_identity(flow.tenant.tenant_id, "phone", "13700137000")
        is None
    )


async def test_after_an_unsubscribe_the_next_sms_is_skipped_unsent(flow: Flow) -> None:
    phone = "13800138007"
    _, driver = await flow.send_one("aliyun", phone)
    assert (await driver.reply("aliyun", phone, "退订")).status == 200
    await flow.drain()
    before = len(flow.sim.sent)

    promo = sms_journey(TEMPLATES["aliyun"])
    promo["nodes"][0]["trigger"]["event_type"] = "promo.started"
    promo["nodes"][1]["id"] = "sms_promo"
    promo["edges"] = [
        {**edge, "source": "sms_promo" if edge["source"] == "sms_welcome" else edge["source"]}
        for edge in promo["edges"]
    ]
    promo["edges"][0]["target"] = "sms_promo"
    await published_journey(flow.api, flow.tenant, promo, name="Promo")
    await post_events(flow.api, flow.tenant, [event("promo-1", "promo.started", {"phone": phone})])
    customer = await flow.customer(phone)

    async def skipped() -> list[Any]:
        page = await flow.store.deliveries.list_for_customer(flow.tenant.tenant_id, customer.id)
        return [d for d in page.items if d.node_id == "sms_promo" and d.status == "skipped"]

    [delivery] = await eventually(skipped)
    assert delivery.channel == "sms"
    assert len(flow.sim.sent) == before
