"""The simulated Tencent Cloud SMS endpoint (API 3.0): `SendSms` with TC3-HMAC-SHA256 checked.

Every answer is HTTP 200 with `{"Response": {..., "RequestId"}}`. A request that does not
authenticate answers `Response.Error` with `AuthFailure.InvalidAuthorization` (malformed header),
`AuthFailure.SecretIdNotFound`, `AuthFailure.SignatureExpire` (more than 5 minutes off) or
`AuthFailure.SignatureFailure`; a wrong SmsSdkAppId `InvalidParameterValue.SdkAppIdNotExist`, an
unapproved sign or template `FailedOperation.SignatureIncorrectOrUnapproved` /
`FailedOperation.TemplateIncorrectOrUnapproved`. Per-number refusals come in `SendStatusSet`.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors.sms.signing import (
    tc3_canonical_request,
    tc3_date,
    tc3_signature,
    tc3_string_to_sign,
)
from connectors.sms.simulator.state import RefusedError, Rule, SmsAccount

MAX_SKEW = 300.0
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
REFUSALS: dict[Rule, tuple[str, str]] = {
    "number": ("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"),
    "blacklist": ("FailedOperation.PhoneNumberInBlacklist", "phone number in blacklist"),
    "balance": ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance"),
    "interval": ("LimitExceeded.PhoneNumberThirtySecondLimit", "30 second limit"),
    "daily": ("LimitExceeded.PhoneNumberDailyLimit", "daily limit"),
}
REQUEST_REFUSALS: dict[Rule, tuple[str, str]] = {
    "sign": ("FailedOperation.SignatureIncorrectOrUnapproved", "signature unapproved"),
    "template": ("FailedOperation.TemplateIncorrectOrUnapproved", "template unapproved"),
    "params": ("InvalidParameterValue.TemplateParameterFormatError", "bad template params"),
}


def _answer(inner: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"Response": {**inner, "RequestId": str(uuid.uuid4())}})


def _error(code: str, message: str) -> JSONResponse:
    return _answer({"Error": {"Code": code, "Message": message}})


class TencentEndpoint:
    """Tencent Cloud's SMS API over an `SmsAccount`."""

    def __init__(self, account: SmsAccount) -> None:
        self.account = account
        self.rejected: list[str] = []
        """Codes of the requests refused before any business check (signature and the like)."""

    async def handle(self, request: Request) -> JSONResponse:
        payload = await request.body()
        refused = self._authenticate(request, payload)
        if refused is not None:
            self.rejected.append(refused)
            return _error(refused, "the request did not authenticate")
        if request.headers.get("x-tc-action") != "SendSms":
            return _error("InvalidAction", "action not found")
        if self.account.fail_next:
            code = self.account.fail_next.pop(0)
            return _error(code, code)
        try:
            body = json.loads(payload)
        except ValueError:
            return _error("InvalidParameter", "the body is not JSON")
        return self._send(body if isinstance(body, dict) else {})

    def _authenticate(self, request: Request, payload: bytes) -> str | None:
        match = _AUTHORIZATION.match(request.headers.get("authorization", ""))
        stamp_text = request.headers.get("x-tc-timestamp", "")
        if match is None or not stamp_text.isdigit():
            return "AuthFailure.InvalidAuthorization"
        if match["id"] != self.account.access_key_id:
            return "AuthFailure.SecretIdNotFound"
        stamp = int(stamp_text)
        if abs(stamp - self.account.clock()) > MAX_SKEW:
            return "AuthFailure.SignatureExpire"
        signed = match["signed"].split(";")
        if "content-type" not in signed or "host" not in signed or match["date"] != tc3_date(stamp):
            return "AuthFailure.SignatureFailure"
        headers = {name: request.headers.get(name, "") for name in signed}
        canonical, _ = tc3_canonical_request(request.method, request.url.query, headers, payload)
        expected = tc3_signature(
            self.account.secret,
            stamp,
            match["service"],
            tc3_string_to_sign(stamp, match["service"], canonical),
        )
        if not hmac.compare_digest(expected, match["signature"]):
            return "AuthFailure.SignatureFailure"
        return None

    def _send(self, body: dict[str, Any]) -> JSONResponse:
        if body.get("SmsSdkAppId") != self.account.sdk_app_id:
            return _error("InvalidParameterValue.SdkAppIdNotExist", "SmsSdkAppId does not exist")
        sign_name, template = str(body.get("SignName", "")), str(body.get("TemplateId", ""))
        numbers, variables = body.get("PhoneNumberSet"), body.get("TemplateParamSet", [])
        if not isinstance(numbers, list) or not numbers or not isinstance(variables, list):
            return _error("MissingParameter", "PhoneNumberSet is required")
        statuses = []
        for number in numbers:
            phone = str(number).removeprefix("+86")
            try:
                self.account.check(phone, sign_name, template)
            except RefusedError as exc:
                if exc.rule in REQUEST_REFUSALS:
                    return _error(*REQUEST_REFUSALS[exc.rule])
                code, message = REFUSALS[exc.rule]
                statuses.append(_status(str(number), "", code, message, body))
                continue
            sms = self.account.accept(
                "tencent",
                phone,
                sign_name,
                template,
                [str(value) for value in variables],
                str(body.get("SessionContext", "")),
            )
            statuses.append(_status(str(number), sms.message_id, "Ok", "send success", body))
        return _answer({"SendStatusSet": statuses})


def _status(
    number: str, serial: str, code: str, message: str, body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "SerialNo": serial,
        "PhoneNumber": number,
        "Fee": 1 if code == "Ok" else 0,
        "SessionContext": str(body.get("SessionContext", "")),
        "Code": code,
        "Message": message,
        "IsoCode": "CN",
    }
