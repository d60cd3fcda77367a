"""The `oa` and `miniprogram` connectors against the simulator over real HTTP, with the real
store's settings and authorisation ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import ActionRequest, CustomerContact
from connectors.errors import InvalidActionParamsError, PermanentChannelError, TransientChannelError
from connectors.wechat import MiniProgramConnector, OfficialAccountConnector, WeChatClient
from connectors.wechat.client import WeChatApiError
from connectors.wechat.simulator import WeChatSimulator
from domain.channels import new_callback_id
from domain.wechat import WeChatAppSettings
from store.database import Store

SECRET = "app-s3cret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TEMPLATE = "tmpl-order-shipped"
DATA = {"thing1": "Hi {{ customer.attributes.name }}", "time2": "2026-12-07"}
NOW = datetime(2026, 12, 7, tzinfo=UTC)
TEMPLATE_SEND = "message/template/send"
SUBSCRIBE_SEND = "message/subscribe/send"


@dataclass
class Rig:
    oa: WeChatSimulator
    mp: WeChatSimulator
    store: Store
    oa_connector: OfficialAccountConnector
    mp_connector: MiniProgramConnector

    def request(
        self, channel: str, action: str, openid: str, *, key: str = "acme:e1:n1:1", **params: Any
    ) -> ActionRequest:
        kind = "wechat_openid" if channel == "oa" else "miniprogram_openid"
        return ActionRequest(
            tenant_id="acme",
            enrollment_id="e1",
            node_id="n1",
            action=action,
            params={"template_id": TEMPLATE, "data": DATA, **params},
            idempotency_key=key,
            customer=CustomerContact(
                customer_id="cust-1", identities={kind: openid}, attributes={"name": "Li"}
            ),
        )


async def _connect(store: Store, sim: WeChatSimulator, base_url: str) -> None:
    await store.wechat_apps.put(
        "acme",
        sim.kind,
        WeChatAppSettings(
            appid=sim.appid,
            appsecret=SecretStr(SECRET),
            callback_token=SecretStr("push-token"),
            encoding_aes_key=SecretStr(AES_KEY),
            base_url=base_url,
            callback_id=new_callback_id(),
        ),
        NOW,
    )


@pytest.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    oa = WeChatSimulator("oa", "wxoa0000000000001", SECRET)
    mp = WeChatSimulator("miniprogram", "wxmp0000000000001", SECRET)
    for sim in (oa, mp):
        sim.add_template(TEMPLATE, ["thing1", "time2"])
    async with oa.serve() as oa_url, mp.serve() as mp_url, httpx.AsyncClient() as http:
        await _connect(store, oa, oa_url)
        await _connect(store, mp, mp_url)
        client = WeChatClient(http, store.wechat_apps)
        yield Rig(
            oa,
            mp,
            store,
            OfficialAccountConnector(client),
            MiniProgramConnector(client, store.miniprogram_authorizations),
        )


async def test_a_template_message_reaches_a_follower_rendered_with_one_token(rig: Rig) -> None:
    openid = rig.oa.add_user()
    rig.oa.followers.add(openid)
    outcome = await rig.oa_connector.execute(
        rig.request("oa", "template_message", openid, url="https://shop.example/o/1")
    )
    [sent] = rig.oa.sent
    assert outcome.external_id == str(sent.msgid)
    assert sent.body["touser"] == openid
    assert sent.body["data"] == {"thing1": {"value": "Hi Li"}, "time2": {"value": "2026-12-07"}}
    assert sent.body["url"] == "https://shop.example/o/1"
    # A second send reuses the cached token; a retried one (same key) is dropped by WeChat.
    again = await rig.oa_connector.execute(rig.request("oa", "template_message", openid))
    assert again.external_id == outcome.external_id
    assert rig.oa.calls_of("stable_token") == 1 and len(rig.oa.sent) == 1


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(rig: Rig) -> None:
    openid = rig.oa.add_user()
    rig.oa.followers.add(openid)
    await rig.oa_connector.execute(rig.request("oa", "template_message", openid, key="k1"))
    rig.oa.expire_tokens()
    await rig.oa_connector.execute(rig.request("oa", "template_message", openid, key="k2"))
    assert rig.oa.calls_of("stable_token") == 2
    assert rig.oa.calls == [
        "stable_token",
        TEMPLATE_SEND,
        TEMPLATE_SEND,  # 42001
        "stable_token",  # force_refresh
        TEMPLATE_SEND,
    ]
    assert len(rig.oa.sent) == 2


@pytest.mark.parametrize(
    ("errcode", "code"),
    [
        (43004, "wechat.not_following"),
        (40003, "wechat.invalid_openid"),
        (40037, "wechat.invalid_template"),
        (47003, "wechat.invalid_argument"),
        (43101, "wechat.not_authorized"),
        (48001, "wechat.48001"),
    ],
)
async def test_refusals_are_permanent_with_a_named_code(rig: Rig, errcode: int, code: str) -> None:
    openid = rig.oa.add_user()
    rig.oa.followers.add(openid)
    rig.oa.fail_next(TEMPLATE_SEND, errcode)
    with pytest.raises(WeChatApiError) as caught:
        await rig.oa_connector.execute(rig.request("oa", "template_message", openid))
    assert caught.value.code == code and caught.value.errcode == errcode


@pytest.mark.parametrize(("errcode", "retry_after"), [(-1, None), (45009, 60.0), (502, None)])
async def test_busy_and_frequency_limits_are_transient(
    rig: Rig, errcode: int, retry_after: float | None
) -> None:
    openid = rig.oa.add_user()
    rig.oa.followers.add(openid)
    rig.oa.fail_next(TEMPLATE_SEND, errcode)
    with pytest.raises(TransientChannelError) as caught:
        await rig.oa_connector.execute(rig.request("oa", "template_message", openid))
    assert caught.value.retry_after == retry_after
    assert "access_token" not in caught.value.message


async def test_the_simulator_refuses_a_non_follower_and_a_bad_template_for_real(rig: Rig) -> None:
    stranger = rig.oa.add_user()
    with pytest.raises(PermanentChannelError) as caught:
        await rig.oa_connector.execute(rig.request("oa", "template_message", stranger))
    assert caught.value.code == "wechat.not_following"
    rig.oa.followers.add(stranger)
    with pytest.raises(PermanentChannelError) as caught:
        await rig.oa_connector.execute(
            rig.request("oa", "template_message", stranger, template_id="nope", key="k2")
        )
    assert caught.value.code == "wechat.invalid_template"


async def test_params_are_checked_before_anything_is_sent(rig: Rig) -> None:
    with pytest.raises(InvalidActionParamsError):
        await rig.oa_connector.execute(
            rig.request("oa", "template_message", "o1", miniprogram_page="pages/x")
        )
    assert rig.oa.calls == []


async def test_a_subscribe_message_without_an_authorisation_is_refused_before_calling(
    rig: Rig,
) -> None:
    openid = rig.mp.add_user()
    with pytest.raises(PermanentChannelError) as caught:
        await rig.mp_connector.execute(rig.request("miniprogram", "subscribe_message", openid))
    assert caught.value.code == "miniprogram.no_authorization"
    assert rig.mp.calls == []


async def test_each_authorisation_allows_one_send_and_a_retry_spends_none(rig: Rig) -> None:
    openid = rig.mp.add_user()
    rig.mp.authorizations[(openid, TEMPLATE)] = 5  # WeChat's side would allow more
    ledger = rig.store.miniprogram_authorizations
    assert await ledger.grant("acme", openid, TEMPLATE, "event-1", NOW)
    assert not await ledger.grant("acme", openid, TEMPLATE, "event-1", NOW)  # same event
    first = rig.request("miniprogram", "subscribe_message", openid, key="k1", page="pages/o")
    await rig.mp_connector.execute(first)
    await rig.mp_connector.execute(first)  # a retried activity: same key
    assert await ledger.remaining("acme", openid, TEMPLATE) == 0
    with pytest.raises(PermanentChannelError) as caught:
        await rig.mp_connector.execute(
            rig.request("miniprogram", "subscribe_message", openid, key="k2")
        )
    assert caught.value.code == "miniprogram.no_authorization"
    assert rig.mp.calls_of(SUBSCRIBE_SEND) == 2
    assert [sent.body["page"] for sent in rig.mp.sent] == ["pages/o", "pages/o"]


async def test_a_send_refused_before_reaching_the_user_gives_its_authorisation_back(
    rig: Rig,
) -> None:
    openid = rig.mp.add_user()
    rig.mp.authorizations[(openid, TEMPLATE)] = 1
    ledger = rig.store.miniprogram_authorizations
    await ledger.grant("acme", openid, TEMPLATE, "event-1", NOW)
    with pytest.raises(PermanentChannelError) as caught:
        await rig.mp_connector.execute(
            rig.request("miniprogram", "subscribe_message", openid, data={"thing1": "x"})
        )
    assert caught.value.code == "wechat.invalid_argument"  # time2 missing
    assert await ledger.remaining("acme", openid, TEMPLATE) == 1
    await rig.mp_connector.execute(
        rig.request("miniprogram", "subscribe_message", openid, key="k2")
    )
    assert await ledger.remaining("acme", openid, TEMPLATE) == 0


async def test_wechat_refusing_for_want_of_authorisation_keeps_it_spent(rig: Rig) -> None:
    openid = rig.mp.add_user()  # WeChat knows of no authorisation
    ledger = rig.store.miniprogram_authorizations
    await ledger.grant("acme", openid, TEMPLATE, "event-1", NOW)
    with pytest.raises(PermanentChannelError) as caught:
        await rig.mp_connector.execute(rig.request("miniprogram", "subscribe_message", openid))
    assert caught.value.code == "wechat.not_authorized"
    assert await ledger.remaining("acme", openid, TEMPLATE) == 0


async def test_an_unconnected_tenant_is_a_permanent_error(rig: Rig) -> None:
    await rig.store.wechat_apps.delete("acme", "miniprogram")
    with pytest.raises(PermanentChannelError) as caught:
        await rig.mp_connector.execute(rig.request("miniprogram", "subscribe_message", "o1"))
    assert caught.value.code == "wechat.not_configured"


async def test_a_subscription_notice_needs_the_followers_acceptance(rig: Rig) -> None:
    openid = rig.oa.add_user()
    rig.oa.followers.add(openid)
    with pytest.raises(PermanentChannelError) as caught:
        await rig.oa_connector.execute(rig.request("oa", "subscription_message", openid))
    assert caught.value.code == "wechat.not_authorized"
    rig.oa.accepted.add((openid, TEMPLATE))
    await rig.oa_connector.execute(
        rig.request(
            "oa",
            "subscription_message",
            openid,
            key="k2",
            miniprogram_appid="wxmp0000000000001",
            miniprogram_page="pages/order",
        )
    )
    [sent] = rig.oa.sent
    assert sent.path == "message/subscribe/bizsend"
    assert sent.body["miniprogram"] == {"appid": "wxmp0000000000001", "pagepath": "pages/order"}
