"""WeChat message pushes over the real app, MongoDB and Temporal: verified before anything is
parsed, de-duplicated, ingested, and noted on the customer (hook, consent, authorisations)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.wechat import WeChatCodec
from connectors.wechat.simulator import Push, WeChatDriver, WeChatSimulator
from domain.channels import new_callback_id
from domain.hooks import Hook
from domain.wechat import WeChatAppSettings
from store.database import Store
from tests.api.support import TenantKeys

TOKEN = "push-token"


def aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode("ascii")[:43]


@pytest.fixture
def wechat_app(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> Starlette:
    return create_app(store, temporal_env.client, registry, wechat_codec=WeChatCodec())


@pytest.fixture
async def client(wechat_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=wechat_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http
    await wechat_app.state.services.drain()


async def _driver(
    store: Store, tenant_id: str, kind: str, appid: str, http: httpx.AsyncClient
) -> WeChatDriver:
    key, callback_id = aes_key(), new_callback_id()
    settings = WeChatAppSettings(
        appid=appid,
        appsecret=SecretStr("secret"),
        callback_token=SecretStr(TOKEN),
        encoding_aes_key=SecretStr(key),
        callback_id=callback_id,
    )
    await store.wechat_apps.put(tenant_id, kind, settings, datetime.now(UTC))
    sim = WeChatSimulator(kind, appid)
    url = f"/v1/callbacks/{kind}/{callback_id}"
    return WeChatDriver(sim, callback_url=url, token=TOKEN, encoding_aes_key=key, http=http)


@pytest.fixture
async def oa(store: Store, tenant: TenantKeys, client: httpx.AsyncClient) -> WeChatDriver:
    return await _driver(store, tenant.tenant_id, "oa", "wxoa0000000000001", client)


@pytest.fixture
async def mp(store: Store, tenant: TenantKeys, client: httpx.AsyncClient) -> WeChatDriver:
    return await _driver(store, tenant.tenant_id, "miniprogram", "wxmp0000000000001", client)


async def drained(app: Starlette) -> None:
    await app.state.services.drain()


async def events(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    return [doc async for doc in store.db["events"].find({"tenant_id": tenant_id})]


async def handled(store: Store, tenant_id: str) -> int:
    return await store.wecom_callbacks.count(tenant_id)


async def _hook(store: Store, tenant_id: str, state: str) -> None:
    now = datetime.now(UTC)
    await store.hooks.insert(
        Hook(
            id="hook_0000000000000000000000000042",
            tenant_id=tenant_id,
            name="spring poster",
            kind="contact_way",
            state=state,
            config_id="cfg-poster",
            qr_code="https://example.invalid/qr.png",
            created_at=now,
            updated_at=now,
        )
    )


async def test_url_verification_echoes_only_a_correctly_signed_request(
    oa: WeChatDriver, client: httpx.AsyncClient
) -> None:
    answer = await oa.verify_url()
    assert answer.status_code == 200 and answer.text == answer.request.url.params["echostr"]
    params = dict(answer.request.url.params)
    params["signature"] = "0" * 40
    forged = await client.get(oa.callback_url, params=params)
    assert forged.status_code == 403


async def test_a_follow_by_scene_becomes_oa_followed_with_its_hook_and_consent(
    wechat_app: Starlette, oa: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    await _hook(store, tenant.tenant_id, "spring-poster")
    openid, answer = await oa.follow(scene="spring-poster", unionid="union-1")
    assert answer.status_code == 200 and answer.text == "success"
    await drained(wechat_app)
    [event] = await events(store, tenant.tenant_id)
    assert event["type"] == "oa.followed"
    assert event["properties"]["scene"] == "spring-poster"
    assert event["properties"]["hook_id"] == "hook_0000000000000000000000000042"
    customer = await store.customers.get_by_identity(tenant.tenant_id, "wechat_openid", openid)
    assert customer is not None
    assert customer.identity("unionid") == "union-1"
    assert customer.first_touch_hook == "spring-poster"
    assert list(customer.consent) == ["oa"]
    assert (customer.consent["oa"].status, customer.consent["oa"].source) == (
        "opted_in",
        "oa_follow",
    )

    await oa.scan(openid, "autumn")
    assert (await oa.unfollow(openid)).status_code == 200
    await drained(wechat_app)
    kinds = sorted(e["type"] for e in await events(store, tenant.tenant_id))
    assert kinds == ["oa.followed", "oa.scanned", "oa.unfollowed"]
    after = await store.customers.get_by_identity(tenant.tenant_id, "wechat_openid", openid)
    assert after is not None
    assert after.opted_out("oa") is not None and after.first_touch_hook == "spring-poster"
    assert after.consent["oa"].source == "oa_unfollow"


@pytest.mark.parametrize("part", ["ciphertext", "signature"])
async def test_a_tampered_push_is_rejected_and_nothing_is_stored(
    wechat_app: Starlette, oa: WeChatDriver, store: Store, tenant: TenantKeys, part: str
) -> None:
    openid = oa.sim.add_user()
    push = oa.seal(oa.event(openid, "subscribe"))
    if part == "ciphertext":
        text = push.body.decode()
        start = text.index("<Encrypt><![CDATA[") + len("<Encrypt><![CDATA[")
        flipped = "A" if text[start + 5] != "A" else "B"
        tampered = Push(push.params, (text[: start + 5] + flipped + text[start + 6 :]).encode())
    else:
        tampered = Push({**push.params, "msg_signature": "f" * 40}, push.body)
    answer = await oa.post(tampered)
    assert answer.status_code == 403
    await drained(wechat_app)
    assert await events(store, tenant.tenant_id) == []
    assert await handled(store, tenant.tenant_id) == 0
    assert await store.customers.get_by_identity(tenant.tenant_id, "wechat_openid", openid) is None
    assert (await oa.post(push)).status_code == 200  # the untouched push goes through


async def test_a_push_sealed_for_another_app_is_rejected(
    oa: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    other = WeChatDriver(
        WeChatSimulator("oa", "wxother0000000001"),
        callback_url=oa.callback_url,
        token=oa.token,
        encoding_aes_key=oa.encoding_aes_key,
        http=oa.http,
    )
    _, answer = await other.follow()
    assert answer.status_code == 400 and "receiveid" in answer.text
    assert await events(store, tenant.tenant_id) == []


async def test_plain_mode_unknown_urls_and_missing_parameters_are_refused(
    oa: WeChatDriver, client: httpx.AsyncClient
) -> None:
    push = oa.seal(oa.event(oa.sim.add_user(), "subscribe"))
    plain = {k: v for k, v in push.params.items() if k != "encrypt_type"}
    assert (await client.post(oa.callback_url, params=plain, content=push.body)).status_code == 400
    unknown = "/v1/callbacks/oa/" + new_callback_id()
    assert (await client.post(unknown, params=push.params, content=push.body)).status_code == 404
    assert (await client.post(oa.callback_url, content=push.body)).status_code == 400
    mp_url = oa.callback_url.replace("/oa/", "/miniprogram/")  # the id is per kind
    assert (await client.post(mp_url, params=push.params, content=push.body)).status_code == 404


async def test_a_retried_push_is_stored_once(
    wechat_app: Starlette, oa: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    push = oa.seal(oa.event(oa.sim.add_user(), "subscribe"))
    assert (await oa.post(push)).status_code == 200
    assert (await oa.post(push)).status_code == 200
    await drained(wechat_app)
    assert len(await events(store, tenant.tenant_id)) == 1


async def test_template_job_results_come_back_as_delivery_events(
    wechat_app: Starlette, oa: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    openid, _ = await oa.follow()
    oa.sim.add_template("T1", ["thing1"])
    oa.sim.template_send(
        {"touser": openid, "template_id": "T1", "data": {"thing1": {"value": "x"}}}
    )
    oa.sim.template_send(
        {"touser": openid, "template_id": "T1", "data": {"thing1": {"value": "y"}}}
    )
    first, second = oa.sim.sent
    second.finished = True
    await oa.finish_template_jobs()
    second.finished = False
    await oa.finish_template_jobs(status="failed:user block")
    await drained(wechat_app)
    found = {e["type"]: e["properties"] for e in await events(store, tenant.tenant_id)}
    assert found["oa.template_delivered"]["msgid"] == str(first.msgid)
    assert found["oa.template_failed"] == found["oa.template_failed"] | {
        "msgid": str(second.msgid),
        "status": "failed:user block",
    }


async def test_popup_acceptances_count_one_authorisation_each_once(
    wechat_app: Starlette, mp: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    openid = mp.sim.add_user()
    assert (await mp.popup(openid, accept=["T1", "T2"], reject=["T3"])).status_code == 200
    await drained(wechat_app)
    customer = await store.customers.get_by_identity(tenant.tenant_id, "miniprogram_openid", openid)
    assert customer is not None
    ledger = store.miniprogram_authorizations
    counts = [await ledger.remaining(tenant.tenant_id, openid, t) for t in ("T1", "T2", "T3")]
    assert counts == [1, 1, 0]
    kinds = [e["type"] for e in await events(store, tenant.tenant_id)]
    assert kinds == ["miniprogram.subscribe_authorized"] * 2
    await mp.popup(openid, accept=["T1"])  # a second acceptance: a second send allowed
    await drained(wechat_app)
    assert await ledger.remaining(tenant.tenant_id, openid, "T1") == 2


async def test_a_unionid_links_the_oa_and_mini_program_records_of_one_person(
    wechat_app: Starlette, oa: WeChatDriver, mp: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    oa_openid, _ = await oa.follow(unionid="union-7")
    await drained(wechat_app)
    mp_openid = mp.sim.add_user(unionid="union-7")
    await mp.popup(mp_openid, accept=["T1"])
    await drained(wechat_app)
    by_oa = await store.customers.get_by_identity(tenant.tenant_id, "wechat_openid", oa_openid)
    by_mp = await store.customers.get_by_identity(tenant.tenant_id, "miniprogram_openid", mp_openid)
    assert by_oa is not None and by_mp is not None and by_oa.id == by_mp.id
    # The authorisation granted to the absorbed record is still there to spend.
    assert await store.miniprogram_authorizations.remaining(tenant.tenant_id, mp_openid, "T1") == 1


async def test_subscribe_send_results_come_back_as_delivery_events(
    wechat_app: Starlette, mp: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    openid = mp.sim.add_user()
    mp.sim.add_template("T1", ["thing1"])
    mp.sim.authorizations[(openid, "T1")] = 1
    mp.sim.subscribe_send(
        {"touser": openid, "template_id": "T1", "data": {"thing1": {"value": "x"}}}
    )
    [answer] = await mp.report_subscribe_sends()
    assert answer.status_code == 200
    await drained(wechat_app)
    [event] = await events(store, tenant.tenant_id)
    assert event["type"] == "miniprogram.subscribe_delivered"
    assert (
        event["properties"] | {"msgid": str(mp.sim.sent[0].msgid), "error_code": 0}
        == event["properties"]
    )


async def test_a_push_naming_both_ids_merges_two_records_of_one_person(
    wechat_app: Starlette, oa: WeChatDriver, mp: WeChatDriver, store: Store, tenant: TenantKeys
) -> None:
    oa_openid, _ = await oa.follow()  # no UnionId yet: a record of its own
    await drained(wechat_app)
    mp_openid = mp.sim.add_user(unionid="union-9")
    await mp.popup(mp_openid, accept=["T1"])
    await drained(wechat_app)
    first = await store.customers.get_by_identity(tenant.tenant_id, "wechat_openid", oa_openid)
    second = await store.customers.get_by_identity(
        tenant.tenant_id, "miniprogram_openid", mp_openid
    )
    assert first is not None and second is not None and first.id != second.id
    oa.sim.users[oa_openid] = "union-9"  # the next push carries the UnionId
    await oa.scan(oa_openid, "autumn")
    await drained(wechat_app)
    by_oa = await store.customers.get_by_identity(tenant.tenant_id, "wechat_openid", oa_openid)
    by_mp = await store.customers.get_by_identity(tenant.tenant_id, "miniprogram_openid", mp_openid)
    assert by_oa is not None and by_mp is not None and by_oa.id == by_mp.id
    # The authorisation granted to the absorbed record is still there to spend.
    assert await store.miniprogram_authorizations.remaining(tenant.tenant_id, mp_openid, "T1") == 1
