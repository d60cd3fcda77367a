"""The `sms` connector against the simulator over real HTTP, as both providers: signed requests
accepted, tampered ones refused with the provider's error, limits and refusals mapped."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import ActionRequest, CustomerContact
from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.sms import SmsConnector, reference_for
from connectors.sms.aliyun import AliyunSms
from connectors.sms.simulator import SmsSimulator
from connectors.sms.tencent import TencentSms
from domain.channels import new_callback_id
from domain.sms import SentSms, SmsProvider, SmsSettings
from store.database import Store

KEY_ID, SECRET, APP_ID = "LTAI-sim-key", "sim-secret-value", "1400123456"
PHONE = "13800138000"


@dataclass
class Rig:
    sim: SmsSimulator
    connector: SmsConnector
    http: httpx.AsyncClient
    store: Store
    settings: dict[str, SmsSettings]

    def use(self, provider: SmsProvider, **changes: Any) -> SmsSettings:
        data: dict[str, Any] = {
            "provider": provider,
            "access_key_id": KEY_ID,
            "secret": SecretStr(SECRET),
            "sign_name": "Acme",
            "sdk_app_id": APP_ID if provider == "tencent" else None,
            "base_url": self.sim.base_url(provider),
            "callback_id": new_callback_id(),
            **changes,
        }
        settings = SmsSettings.model_validate(data)
        self.settings["acme"] = settings
        return settings


@pytest.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    sim = SmsSimulator(KEY_ID, SECRET, sdk_app_id=APP_ID, templates={"SMS_1", "1110"})
    settings: dict[str, SmsSettings] = {}

    async def lookup(tenant_id: str) -> SmsSettings | None:
        return settings.get(tenant_id)

    async with sim.serve(), httpx.AsyncClient() as http:
        yield Rig(sim, SmsConnector(http, lookup, store.sms_messages), http, store, settings)


def _request(
    template: str = "SMS_1", *, phone: str | None = PHONE, key: str = "k1"
) -> ActionRequest:
    identities = {"phone": phone} if phone else {"wecom_external_userid": "wm1"}
    return ActionRequest(
        tenant_id="acme",
        enrollment_id="e1",
        node_id="sms_coupon",
        action="send",
        params={
            "template": template,
            "template_params": {"name": "{{ customer.attributes.name }}", "code": "C-9"},
        },
        idempotency_key=key,
        customer=CustomerContact(
            customer_id="c1", identities=identities, attributes={"name": "李雷"}
        ),
    )


@pytest.mark.parametrize(("provider", "template"), [("aliyun", "SMS_1"), ("tencent", "1110")])
async def test_a_send_reaches_the_provider_signed_and_is_recorded(
    rig: Rig, provider: SmsProvider, template: str
) -> None:
    rig.use(provider)
    outcome = await rig.connector.execute(_request(template))
    [sms] = rig.sim.sent
    assert (sms.provider, sms.phone, sms.template, sms.sign_name) == (
        provider,
        PHONE,
        template,
        "Acme",
    )
    assert sms.params == (
        {"name": "李雷", "code": "C-9"} if provider == "aliyun" else ["李雷", "C-9"]
    )
    assert sms.reference == reference_for("k1")
    assert outcome.external_id == sms.message_id
    recorded = await rig.store.sms_messages.get("acme", provider, sms.message_id)
    assert isinstance(recorded, SentSms)
    assert (recorded.idempotency_key, recorded.phone, recorded.node_id) == (
        "k1",
        PHONE,
        "sms_coupon",
    )
    assert rig.sim.rejected == []


@pytest.mark.parametrize(
    ("provider", "code"),
    [("aliyun", "SignatureDoesNotMatch"), ("tencent", "AuthFailure.SignatureFailure")],
)
async def test_a_request_signed_with_another_secret_is_refused(
    rig: Rig, provider: SmsProvider, code: str
) -> None:
    rig.use(provider, secret=SecretStr("not-the-secret"))
    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(_request("SMS_1" if provider == "aliyun" else "1110"))
    assert caught.value.code == f"sms.{provider}.{code}"
    assert rig.sim.sent == [] and rig.sim.rejected == [code]


async def test_a_tampered_aliyun_request_is_refused(rig: Rig) -> None:
    settings = rig.use("aliyun")
    params = AliyunSms(rig.http).signed_params(
        settings, "SendSms", {"PhoneNumbers": PHONE, "SignName": "Acme", "TemplateCode": "SMS_1"}
    )
    params["PhoneNumbers"] = "13900139000"  # changed after signing
    response = await rig.http.post(settings.base_url, data=params)
    assert response.status_code == 400
    assert response.json()["Code"] == "SignatureDoesNotMatch"
    assert rig.sim.sent == []


async def test_a_tampered_tencent_body_is_refused(rig: Rig) -> None:
    settings = rig.use("tencent")
    signed_body = b'{"PhoneNumberSet": ["+8613800138000"]}'
    headers = TencentSms(rig.http).signed_headers(settings, "SendSms", signed_body)
    response = await rig.http.post(
        settings.base_url, content=b'{"PhoneNumberSet": ["+8613900139000"]}', headers=headers
    )
    assert response.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert rig.sim.sent == []


@pytest.mark.parametrize(("provider", "template"), [("aliyun", "SMS_1"), ("tencent", "1110")])
async def test_a_second_sms_to_the_same_phone_within_the_interval_is_retried_later(
    rig: Rig, provider: SmsProvider, template: str
) -> None:
    rig.use(provider)
    await rig.connector.execute(_request(template, key="k1"))
    with pytest.raises(TransientChannelError) as caught:
        await rig.connector.execute(_request(template, key="k2"))
    assert caught.value.retry_after == (60.0 if provider == "aliyun" else 30.0)
    assert len(rig.sim.sent) == 1


@pytest.mark.parametrize(
    ("provider", "template", "code"),
    [
        ("aliyun", "SMS_1", "sms.aliyun.isv.BLACK_KEY_CONTROL_LIMIT"),
        ("tencent", "1110", "sms.tencent.FailedOperation.PhoneNumberInBlacklist"),
    ],
)
async def test_a_blacklisted_number_fails_permanently(
    rig: Rig, provider: SmsProvider, template: str, code: str
) -> None:
    rig.use(provider)
    rig.sim.account.blacklist.add(PHONE)
    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(_request(template))
    assert caught.value.code == code


async def test_an_unapproved_template_fails_permanently(rig: Rig) -> None:
    rig.use("aliyun")
    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(_request("SMS_404"))
    assert caught.value.code == "sms.aliyun.isv.SMS_TEMPLATE_ILLEGAL"


async def test_a_provider_system_error_is_transient(rig: Rig) -> None:
    rig.use("aliyun")
    rig.sim.account.fail_next.append("isp.SYSTEM_ERROR")
    with pytest.raises(TransientChannelError):
        await rig.connector.execute(_request())


async def test_a_customer_without_a_phone_fails_permanently_before_any_call(rig: Rig) -> None:
    rig.use("aliyun")
    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(_request(phone=None))
    assert caught.value.code == "sms.no_phone"
    assert "no phone identity" in caught.value.message
    assert rig.sim.sent == [] and rig.sim.rejected == []


async def test_a_tenant_without_settings_fails_permanently(rig: Rig) -> None:
    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(_request())
    assert caught.value.code == "sms.not_configured"


async def test_a_replayed_aliyun_request_is_refused_by_its_nonce(rig: Rig) -> None:
    settings = rig.use("aliyun")
    params = AliyunSms(rig.http).signed_params(
        settings, "SendSms", {"PhoneNumbers": PHONE, "SignName": "Acme", "TemplateCode": "SMS_1"}
    )
    first = await rig.http.post(settings.base_url, data=params)
    assert first.json()["Code"] == "OK"
    replayed = await rig.http.post(settings.base_url, data=params)
    assert (replayed.status_code, replayed.json()["Code"]) == (400, "SignatureNonceUsed")
    assert len(rig.sim.sent) == 1


@pytest.mark.parametrize(
    ("provider", "code"),
    [("aliyun", "InvalidTimeStamp.Expired"), ("tencent", "AuthFailure.SignatureExpire")],
)
async def test_a_request_signed_too_long_ago_is_refused(
    rig: Rig, provider: SmsProvider, code: str
) -> None:
    settings = rig.use(provider)

    def stale() -> float:  # a clock an hour behind
        return time.time() - 3600

    client = (
        AliyunSms(rig.http, clock=stale)
        if provider == "aliyun"
        else TencentSms(rig.http, clock=stale)
    )
    with pytest.raises(PermanentChannelError) as caught:
        await client.send(settings, PHONE, "SMS_1" if provider == "aliyun" else "1110", {}, "r")
    assert caught.value.code == f"sms.{provider}.{code}"
    assert rig.sim.sent == []
