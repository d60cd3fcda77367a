"""What each provider's error codes mean for a retry.

Alibaba Cloud answers `Code` (`OK` on success) in the body; Tencent Cloud answers
`Response.Error.Code` for the request, or a `Code` per number in `SendStatusSet` (`Ok` on
success). `failure(provider, code, message)` turns one into the connector error:

| kind | Alibaba Cloud | Tencent Cloud |
|---|---|---|
| transient, later | `Throttling*`, `isp.SYSTEM_ERROR`, `ServiceUnavailable`, `InternalError`, `isv.BUSINESS_LIMIT_CONTROL` (per-number frequency, 60 s) | `RequestLimitExceeded`, `InternalError.*`, `LimitExceeded.PhoneNumberThirtySecondLimit` (30 s), `LimitExceeded.PhoneNumberOneHourLimit` (1 h) |
| permanent | `isv.MOBILE_NUMBER_ILLEGAL`, `isv.BLACK_KEY_CONTROL_LIMIT`, `isv.AMOUNT_NOT_ENOUGH`, `isv.SMS_TEMPLATE_ILLEGAL`, `isv.SMS_SIGNATURE_ILLEGAL`, `isv.TEMPLATE_MISSING_PARAMETERS`, `isv.DAY_LIMIT_CONTROL`, `SignatureDoesNotMatch`, `InvalidAccessKeyId.*`, and any other code | `FailedOperation.*` (blacklist, balance, template, sign), `InvalidParameterValue.*` (number, params), `LimitExceeded.*DailyLimit`, `AuthFailure.*`, `UnauthorizedOperation.*`, and any other code |

A daily limit is permanent: the message would arrive a day late, which a journey's timing does
not expect. The permanent error's `code` is `sms.<provider>.<provider code>`.
"""

from __future__ import annotations

from connectors.errors import ChannelError, PermanentChannelError, TransientChannelError
from domain.sms import SmsProvider

_ALIYUN_TRANSIENT: dict[str, float | None] = {
    "isv.BUSINESS_LIMIT_CONTROL": 60.0,
    "isp.SYSTEM_ERROR": None,
    "ServiceUnavailable": None,
    "InternalError": None,
}
_TENCENT_TRANSIENT: dict[str, float | None] = {
    "RequestLimitExceeded": 1.0,
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
}
_MAX_MESSAGE = 200


def retry_after(provider: SmsProvider, code: str) -> tuple[bool, float | None]:
    """(whether `code` is worth retrying, the delay the provider's limit implies)."""
    if provider == "aliyun":
        if code.startswith("Throttling"):
            return True, 1.0
        if code in _ALIYUN_TRANSIENT:
            return True, _ALIYUN_TRANSIENT[code]
        return False, None
    if code in _TENCENT_TRANSIENT:
        return True, _TENCENT_TRANSIENT[code]
    if code.startswith("InternalError"):
        return True, None
    return False, None


def failure(provider: SmsProvider, code: str, message: str = "") -> ChannelError:
    """The connector error for a provider's error `code` (module docstring)."""
    text = f"{provider} SMS refused: {code}" + (f" ({message[:_MAX_MESSAGE]})" if message else "")
    transient, delay = retry_after(provider, code)
    if transient:
        return TransientChannelError(text, retry_after=delay)
    return PermanentChannelError(text, code=f"sms.{provider}.{code}")
