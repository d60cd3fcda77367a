"""The providers' signatures against the worked examples their documentation publishes, and the
error-code mapping of `connectors.sms.codes`."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.sms.codes import failure
from connectors.sms.signing import (
    aliyun_signature,
    aliyun_string_to_sign,
    tc3_authorization,
    tc3_canonical_request,
    tc3_signature,
    tc3_string_to_sign,
)
from domain.sms import is_opt_out

# Alibaba Cloud's SMS signature document: testId / testSecret, and the signature it shows.
ALIYUN_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
ALIYUN_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="

# Tencent Cloud's "Signature v3" document: the DescribeInstances example.
TC3_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
TC3_HEADERS = {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}
TC3_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
TC3_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TC3_TIMESTAMP = 1551113065


def test_aliyun_signature_matches_the_documented_example() -> None:
    assert aliyun_signature("testSecret", "GET", ALIYUN_PARAMS) == ALIYUN_SIGNATURE


def test_aliyun_string_to_sign_is_the_documented_canonical_string() -> None:
    # Built by hand from the published rule: sort, percent-encode (RFC 3986), join, encode again.
    canonical = (
        "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001"
        "&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B"
        "%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1"
        "&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
        "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
        "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
    )
    encoded = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    expected = "GET&%2F&" + encoded
    assert aliyun_string_to_sign("GET", {**ALIYUN_PARAMS, "Signature": "ignored"}) == expected
    digest = hmac.new(b"testSecret&", expected.encode(), hashlib.sha1).digest()
    assert base64.b64encode(digest).decode() == ALIYUN_SIGNATURE


def test_aliyun_encoding_uses_percent_20_and_2a() -> None:
    signed = aliyun_string_to_sign("POST", {"A": "x y*~"})
    assert signed == "POST&%2F&A%3Dx%2520y%252A~"


def test_tc3_matches_the_documented_worked_example() -> None:
    canonical, signed = tc3_canonical_request("POST", "", TC3_HEADERS, TC3_PAYLOAD)
    assert signed == "content-type;host"
    assert canonical.endswith("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    to_sign = tc3_string_to_sign(TC3_TIMESTAMP, "cvm", canonical)
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    signature = tc3_signature(TC3_SECRET_KEY, TC3_TIMESTAMP, "cvm", to_sign)
    assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    assert tc3_authorization(
        TC3_SECRET_ID, TC3_SECRET_KEY, TC3_TIMESTAMP, TC3_HEADERS, TC3_PAYLOAD, service="cvm"
    ) == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, Signature="
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


@pytest.mark.parametrize(
    ("provider", "code", "delay"),
    [
        ("aliyun", "isv.BUSINESS_LIMIT_CONTROL", 60.0),
        ("aliyun", "Throttling.User", 1.0),
        ("aliyun", "isp.SYSTEM_ERROR", None),
        ("tencent", "RequestLimitExceeded", 1.0),
        ("tencent", "LimitExceeded.PhoneNumberThirtySecondLimit", 30.0),
        ("tencent", "InternalError.Timeout", None),
    ],
)
def test_throttling_and_internal_errors_are_transient(
    provider: str, code: str, delay: float | None
) -> None:
    error = failure(provider, code)  # type: ignore[arg-type]
    assert isinstance(error, TransientChannelError)
    assert error.retry_after == delay


@pytest.mark.parametrize(
    ("provider", "code"),
    [
        ("aliyun", "isv.MOBILE_NUMBER_ILLEGAL"),
        ("aliyun", "isv.BLACK_KEY_CONTROL_LIMIT"),
        ("aliyun", "isv.AMOUNT_NOT_ENOUGH"),
        ("aliyun", "isv.SMS_TEMPLATE_ILLEGAL"),
        ("aliyun", "isv.DAY_LIMIT_CONTROL"),
        ("aliyun", "SignatureDoesNotMatch"),
        ("tencent", "LimitExceeded.PhoneNumberDailyLimit"),
        ("tencent", "FailedOperation.PhoneNumberInBlacklist"),
        ("tencent", "FailedOperation.TemplateIncorrectOrUnapproved"),
        ("tencent", "InvalidParameterValue.IncorrectPhoneNumber"),
        ("tencent", "AuthFailure.SignatureFailure"),
        ("tencent", "SomethingNew.Unknown"),
    ],
)
def test_refusals_that_retrying_cannot_fix_are_permanent(provider: str, code: str) -> None:
    error = failure(provider, code, "why")  # type: ignore[arg-type]
    assert isinstance(error, PermanentChannelError)
    assert error.code == f"sms.{provider}.{code}"


@pytest.mark.parametrize("text", ["T", " td ", "Td", "退订", " 退 订 ", "\uff34\uff24"])
def test_unsubscribe_replies_are_recognised(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["", "TDD", "thanks", "不退订", "T D X"])
def test_other_replies_are_not_unsubscribes(text: str) -> None:
    assert not is_opt_out(text)
