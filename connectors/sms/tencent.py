"""Tencent Cloud SMS (API 3.0, version 2021-01-11): `SendSms` signed with TC3-HMAC-SHA256.

A JSON POST to the tenant's API root with the `X-TC-Action`, `X-TC-Version`, `X-TC-Region` and
`X-TC-Timestamp` headers and `Authorization` signing `content-type`, `host` and `x-tc-action`
(`connectors.sms.signing`). The body names PhoneNumberSet (E.164), SmsSdkAppId, SignName,
TemplateId, TemplateParamSet and SessionContext (our idempotency reference, echoed back). The
answer is `{"Response": {...}}`: an `Error` for the whole request, or a `SendStatusSet` whose
entry for the number has `Code` `Ok` and a `SerialNo` (the `sid` of the delivery report).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.errors import TransientChannelError
from connectors.sms.codes import failure
from connectors.sms.signing import tc3_authorization
from domain.sms import SmsSettings

API_VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"


def e164(phone: str) -> str:
    """A normalized `phone` identity in E.164: mainland mobiles (11 digits from 1) get +86."""
    if len(phone) == 11 and phone.startswith("1"):
        return "+86" + phone
    return "+" + phone


class TencentSms:
    """Sends through Tencent Cloud for any tenant's settings; shares an HTTP client it does not
    own."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._timeout = timeout
        self._clock = clock

    def signed_headers(self, settings: SmsSettings, action: str, payload: bytes) -> dict[str, str]:
        """The request's headers, `Authorization` included."""
        stamp = int(self._clock())
        host = urlsplit(settings.base_url).netloc
        signed = {"content-type": CONTENT_TYPE, "host": host, "x-tc-action": action.lower()}
        return {
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Version": API_VERSION,
            "X-TC-Region": settings.effective_region,
            "X-TC-Timestamp": str(stamp),
            "Authorization": tc3_authorization(
                settings.access_key_id, settings.secret.get_secret_value(), stamp, signed, payload
            ),
        }

    async def send(
        self,
        settings: SmsSettings,
        phone: str,
        template: str,
        template_params: Mapping[str, str],
        out_id: str,
    ) -> str:
        """Send one SMS; Tencent Cloud's `SerialNo` for it."""
        number = e164(phone)
        payload = json.dumps(
            {
                "PhoneNumberSet": [number],
                "SmsSdkAppId": settings.sdk_app_id,
                "SignName": settings.sign_name,
                "TemplateId": template,
                "TemplateParamSet": list(template_params.values()),
                "SessionContext": out_id,
            },
            ensure_ascii=False,
        ).encode()
        body = await self._post(settings, payload)
        statuses = body.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            raise TransientChannelError("tencent SMS answered without a SendStatusSet")
        status = statuses[0]
        code = str(status.get("Code", ""))
        if code != "Ok":
            raise failure("tencent", code, str(status.get("Message", "")))
        return str(status.get("SerialNo") or "")

    async def _post(self, settings: SmsSettings, payload: bytes) -> dict[str, Any]:
        headers = self.signed_headers(settings, "SendSms", payload)
        try:
            response = await self._http.post(
                settings.base_url, content=payload, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise TransientChannelError(f"tencent SMS unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientChannelError(f"tencent SMS answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientChannelError("tencent SMS answered something other than JSON") from exc
        inner = body.get("Response") if isinstance(body, dict) else None
        if not isinstance(inner, dict):
            raise TransientChannelError("tencent SMS answered an unexpected shape")
        error = inner.get("Error")
        if isinstance(error, dict):
            raise failure("tencent", str(error.get("Code", "")), str(error.get("Message", "")))
        return inner
