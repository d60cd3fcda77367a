"""Alibaba Cloud SMS (dysmsapi, version 2017-05-25): `SendSms` signed with RPC signature v1.

The request is a form POST to the tenant's API root carrying the common parameters (AccessKeyId,
Action, Format, RegionId, SignatureMethod, SignatureNonce, SignatureVersion, Timestamp, Version),
the business ones (PhoneNumbers, SignName, TemplateCode, TemplateParam as JSON, OutId) and
`Signature` (`connectors.sms.signing`). The answer is JSON whose `Code` is `OK` with a `BizId`,
or an error code (`connectors.sms.codes`). Alibaba Cloud does not de-duplicate by `OutId`; it
echoes it in the delivery report, which is how the report finds its node visit.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.errors import TransientChannelError
from connectors.sms.codes import failure
from connectors.sms.signing import aliyun_signature
from domain.sms import SmsSettings

API_VERSION = "2017-05-25"


def timestamp(at: float) -> str:
    """Alibaba Cloud's ISO 8601 UTC timestamp (`2017-07-12T02:42:19Z`)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AliyunSms:
    """Sends through Alibaba Cloud for any tenant's settings; shares an HTTP client it does not
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

    def signed_params(
        self, settings: SmsSettings, action: str, business: Mapping[str, str]
    ) -> dict[str, str]:
        """The request's parameters, `Signature` included."""
        params = {
            "AccessKeyId": settings.access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": settings.effective_region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": timestamp(self._clock()),
            "Version": API_VERSION,
            **business,
        }
        params["Signature"] = aliyun_signature(settings.secret.get_secret_value(), "POST", params)
        return params

    async def send(
        self,
        settings: SmsSettings,
        phone: str,
        template: str,
        template_params: Mapping[str, str],
        out_id: str,
    ) -> str:
        """Send one SMS; Alibaba Cloud's `BizId` for it."""
        business = {
            "PhoneNumbers": phone,
            "SignName": settings.sign_name,
            "TemplateCode": template,
            "TemplateParam": json.dumps(dict(template_params), ensure_ascii=False),
            "OutId": out_id,
        }
        body = await self._post(settings, self.signed_params(settings, "SendSms", business))
        return str(body.get("BizId") or "")

    async def _post(self, settings: SmsSettings, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._http.post(settings.base_url, data=params, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise TransientChannelError(f"aliyun SMS unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientChannelError(f"aliyun SMS answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientChannelError("aliyun SMS answered something other than JSON") from exc
        if not isinstance(body, dict):
            raise TransientChannelError("aliyun SMS answered an unexpected shape")
        code = str(body.get("Code", ""))
        if code != "OK":
            raise failure(
                "aliyun", code or f"http_{response.status_code}", str(body.get("Message", ""))
            )
        return body
