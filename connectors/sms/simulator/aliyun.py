"""The simulated Alibaba Cloud dysmsapi endpoint: `SendSms` with RPC signature v1 checked.

Parameters are read from the query and the form body. Authentication failures answer as Alibaba
Cloud does, with an HTTP 4xx and `{"Code", "Message", "RequestId", "HostId"}`:
`MissingParameter`, `InvalidAccessKeyId.NotFound` (404), `IncompleteSignature` (method/version),
`InvalidTimeStamp.Expired` (more than 15 minutes off), `SignatureNonceUsed`,
`SignatureDoesNotMatch`. Business refusals answer HTTP 200 with an `isv.*` code.
"""

from __future__ import annotations

import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors.sms.signing import aliyun_signature, aliyun_string_to_sign
from connectors.sms.simulator.state import RefusedError, Rule, SmsAccount

MAX_SKEW = 900.0
HOST_ID = "dysmsapi.aliyuncs.com"
_REQUIRED = (
    "AccessKeyId",
    "Action",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
)
REFUSALS: dict[Rule, tuple[str, str]] = {
    "sign": ("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法"),
    "template": ("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法"),
    "params": ("isv.INVALID_JSON_PARAM", "JSON参数不合法"),
    "number": ("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    "blacklist": ("isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控"),
    "balance": ("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
    "interval": ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
    "daily": ("isv.DAY_LIMIT_CONTROL", "触发天级流控Permits:10"),
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "RequestId": str(uuid.uuid4()).upper(),
            "HostId": HOST_ID,
            "Code": code,
            "Message": message,
        },
        status_code=status,
    )


class AliyunEndpoint:
    """Alibaba Cloud's SMS API over an `SmsAccount`."""

    def __init__(self, account: SmsAccount) -> None:
        self.account = account
        self._nonces: set[str] = set()
        self.rejected: list[str] = []
        """Codes of the requests refused before any business check (signature and the like)."""

    async def handle(self, request: Request) -> JSONResponse:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", "replace")
            params.update(parse_qsl(body, keep_blank_values=True))
        refused = self._authenticate(request.method, params)
        if refused is not None:
            self.rejected.append(str(json.loads(bytes(refused.body))["Code"]))
            return refused
        if params["Action"] != "SendSms":
            return _error(404, "InvalidAction.NotFound", "Specified api is not found")
        if self.account.fail_next:
            code = self.account.fail_next.pop(0)
            return JSONResponse({"RequestId": str(uuid.uuid4()), "Code": code, "Message": code})
        return self._send(params)

    def _authenticate(self, method: str, params: dict[str, str]) -> JSONResponse | None:
        missing = [name for name in _REQUIRED if not params.get(name)]
        if missing:
            return _error(400, "MissingParameter", f"{missing[0]} is mandatory for this action.")
        if params["AccessKeyId"] != self.account.access_key_id:
            return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return _error(400, "IncompleteSignature", "The request signature does not conform.")
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _error(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        if abs(stamp.timestamp() - self.account.clock()) > MAX_SKEW:
            return _error(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        expected = aliyun_signature(self.account.secret, method, params)
        if not hmac.compare_digest(expected, params["Signature"]):
            server_string = aliyun_string_to_sign(method, params)
            return _error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to "
                f"sign is:{server_string}",
            )
        if params["SignatureNonce"] in self._nonces:
            return _error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(params["SignatureNonce"])
        return None

    def _send(self, params: dict[str, str]) -> JSONResponse:
        request_id = str(uuid.uuid4()).upper()
        phone = params.get("PhoneNumbers", "")
        sign_name = params.get("SignName", "")
        template = params.get("TemplateCode", "")
        try:
            variables: Any = json.loads(params.get("TemplateParam") or "{}")
            if not isinstance(variables, dict):
                raise RefusedError("params")
            self.account.check(phone, sign_name, template)
        except (ValueError, RefusedError) as exc:
            rule: Rule = exc.rule if isinstance(exc, RefusedError) else "params"
            code, message = REFUSALS[rule]
            return JSONResponse({"RequestId": request_id, "Code": code, "Message": message})
        sms = self.account.accept(
            "aliyun",
            phone,
            sign_name,
            template,
            {str(k): str(v) for k, v in variables.items()},
            params.get("OutId", ""),
        )
        return JSONResponse(
            {"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": sms.message_id}
        )
