"""The signature schemes of the sources, each as its platform publishes it.

| source | where the signature is | what is signed |
|---|---|---|
| Douyin (`X-Douyin-Signature`) | header, lowercase hex | SHA-1 of the app's client secret followed by the raw body (a plain digest, not an HMAC) |
| Xiaohongshu (`X-Red-Signature`) | header, `sha1=<hex>` | HMAC-SHA1 of the raw body, keyed with the landing page's push token |
| Youzan (`sign`) | the body's `sign` field, hex | MD5 of `client_id` + `msg` (as sent, still URL-encoded) + `client_secret` |
| order webhook (`X-Omnijourney-Signature`) | header, `sha256=<hex>` (several, comma-separated, during a rotation) | HMAC-SHA256 of `<X-Omnijourney-Timestamp>.<raw body>` with the tenant's order secret |

Every comparison is constant-time (`hmac.compare_digest`). The order webhook's timestamp must
also lie within `ORDER_REPLAY_WINDOW` of the receiver's clock, so a captured request cannot be
sent again later.
"""

from __future__ import annotations

import hashlib
import hmac

ORDER_REPLAY_WINDOW = 300
"""Seconds an order webhook's timestamp may be from the receiver's clock, either way."""


def douyin_signature(client_secret: str, body: bytes) -> str:
    """`X-Douyin-Signature` for `body`: hex SHA-1 of the secret's bytes then the body's."""
    # SHA-1 because Douyin signs with it; the check is theirs to choose, not ours.
    digest = hashlib.sha1(client_secret.encode() + body)  # noqa: S324 - the published scheme
    return digest.hexdigest()


def xiaohongshu_signature(token: str, body: bytes) -> str:
    """`X-Red-Signature` for `body`: `sha1=` and the hex HMAC-SHA1 of the body under `token`."""
    return "sha1=" + hmac.new(token.encode(), body, hashlib.sha1).hexdigest()


def youzan_sign(client_id: str, msg: str, client_secret: str) -> str:
    """Youzan's `sign`: hex MD5 of `client_id`, `msg` (as sent) and `client_secret`, joined."""
    joined = (client_id + msg + client_secret).encode()
    return hashlib.md5(joined, usedforsecurity=False).hexdigest()


def order_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`X-Omnijourney-Signature` for `body` sent at `timestamp`: `sha256=<hex>`."""
    signed = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def douyin_verified(client_secret: str, body: bytes, signature: str) -> bool:
    """Whether `signature` is Douyin's for `body` under `client_secret`."""
    return _same(douyin_signature(client_secret, body), signature)


def xiaohongshu_verified(token: str, body: bytes, signature: str) -> bool:
    """Whether `signature` (`sha1=<hex>`) is Xiaohongshu's for `body` under `token`."""
    return _same(xiaohongshu_signature(token, body), signature)


def youzan_verified(client_id: str, msg: str, client_secret: str, sign: str) -> bool:
    """Whether `sign` is Youzan's for this `client_id` and `msg` under `client_secret`."""
    return _same(youzan_sign(client_id, msg, client_secret), sign)


def order_verified(
    secrets: list[str], timestamp: str, body: bytes, signature: str, now: float
) -> bool:
    """Whether any signature listed in `signature` signs `body` at `timestamp` with one of
    `secrets`, and `timestamp` (unix seconds) is within `ORDER_REPLAY_WINDOW` of `now`."""
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > ORDER_REPLAY_WINDOW:
        return False
    listed = [part.strip() for part in signature.split(",") if part.strip()]
    # Every pair is compared, so the time taken does not tell which matched.
    matches = [
        hmac.compare_digest(order_signature(secret, timestamp, body).encode(), given.encode())
        for secret in secrets
        for given in listed
    ]
    return any(matches)
