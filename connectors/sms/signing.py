"""The two providers' request signatures, as each publishes them; shared by the clients and the
simulator, which verifies what the clients sign.

Alibaba Cloud RPC signature v1 (HMAC-SHA1):

    CanonicalizedQueryString = join("&", sorted(pct(key) + "=" + pct(value)))   # not Signature
    StringToSign = Method + "&" + pct("/") + "&" + pct(CanonicalizedQueryString)
    Signature    = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))

where `pct` is RFC 3986 percent-encoding of UTF-8 (unreserved `A-Z a-z 0-9 - _ . ~` kept; space
is `%20`, `*` is `%2A`).

Tencent Cloud API 3.0 TC3-HMAC-SHA256:

    CanonicalRequest = Method \\n "/" \\n Query \\n CanonicalHeaders \\n SignedHeaders \\n
                       hex(SHA256(payload))
    StringToSign     = "TC3-HMAC-SHA256" \\n Timestamp \\n Date/service/tc3_request \\n
                       hex(SHA256(CanonicalRequest))
    key              = HMAC(HMAC(HMAC("TC3" + SecretKey, Date), service), "tc3_request")
    Signature        = hex(HMAC-SHA256(key, StringToSign))

with `Date` the UTC date of `Timestamp`, headers lower-cased, trimmed and sorted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

TC3_ALGORITHM = "TC3-HMAC-SHA256"
TC3_SERVICE = "sms"


def aliyun_encode(value: str) -> str:
    """RFC 3986 percent-encoding as Alibaba Cloud's signature specifies."""
    return quote(value, safe="~")


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """The string Alibaba Cloud signs for `params` (any `Signature` among them left out)."""
    canonical = "&".join(
        f"{aliyun_encode(key)}={aliyun_encode(value)}"
        for key, value in sorted(params.items())
        if key != "Signature"
    )
    return f"{method.upper()}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Alibaba Cloud's signature v1 (HMAC-SHA1, base64) of `params`."""
    digest = hmac.new(
        (secret + "&").encode(), aliyun_string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def tc3_date(timestamp: int) -> str:
    """The UTC date (`YYYY-MM-DD`) of a Unix timestamp, as the credential scope uses it."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def tc3_canonical_request(
    method: str, query: str, headers: Mapping[str, str], payload: bytes
) -> tuple[str, str]:
    """(CanonicalRequest, SignedHeaders) for the headers to be signed."""
    cleaned = sorted(
        (name.strip().lower(), value.strip().lower()) for name, value in headers.items()
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in cleaned)
    signed = ";".join(name for name, _ in cleaned)
    request = "\n".join(
        [
            method.upper(),
            "/",
            query,
            canonical_headers,
            signed,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    return request, signed


def tc3_string_to_sign(timestamp: int, service: str, canonical_request: str) -> str:
    """The string TC3-HMAC-SHA256 signs."""
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    hashed = hashlib.sha256(canonical_request.encode()).hexdigest()
    return f"{TC3_ALGORITHM}\n{timestamp}\n{scope}\n{hashed}"


def tc3_signature(secret_key: str, timestamp: int, service: str, string_to_sign: str) -> str:
    """The hex TC3-HMAC-SHA256 signature of `string_to_sign`."""

    def mac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(("TC3" + secret_key).encode(), tc3_date(timestamp)), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(
    secret_id: str,
    secret_key: str,
    timestamp: int,
    headers: Mapping[str, str],
    payload: bytes,
    *,
    service: str = TC3_SERVICE,
    method: str = "POST",
) -> str:
    """The `Authorization` header of a TC3-signed request signing `headers`."""
    canonical, signed = tc3_canonical_request(method, "", headers, payload)
    signature = tc3_signature(
        secret_key, timestamp, service, tc3_string_to_sign(timestamp, service, canonical)
    )
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    return (
        f"{TC3_ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
