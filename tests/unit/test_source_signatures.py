"""The sources' signature checks against vectors computed here, step by step, from each
platform's published scheme (`domain.sources.signatures`)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from domain.sources import signatures

# Douyin's published example body (the URL check of "Webhooks 概述").
DOUYIN_BODY = b'{"event":"verify_webhook","client_key":"abc","content":{"challenge":12345}}'


def test_douyin_signature_is_sha1_of_the_client_secret_then_the_raw_body() -> None:
    secret = "douyin-client-secret"
    digest = hashlib.sha1(usedforsecurity=False)  # Douyin's choice of digest
    digest.update(secret.encode("utf-8"))  # first the app's client secret
    digest.update(DOUYIN_BODY)  # then the body exactly as received
    expected = digest.hexdigest()
    assert signatures.douyin_signature(secret, DOUYIN_BODY) == expected
    assert signatures.douyin_verified(secret, DOUYIN_BODY, expected)
    assert signatures.douyin_verified(secret, DOUYIN_BODY, expected.upper())


def test_douyin_signature_rejects_a_changed_body_or_another_secret() -> None:
    good = hashlib.sha1(b"s3cret" + DOUYIN_BODY, usedforsecurity=False).hexdigest()
    assert not signatures.douyin_verified("s3cret", DOUYIN_BODY.replace(b"12345", b"12346"), good)
    assert not signatures.douyin_verified("other", DOUYIN_BODY, good)
    # a keyed HMAC is not what Douyin sends
    keyed = hmac.new(b"s3cret", DOUYIN_BODY, hashlib.sha1).hexdigest()
    assert not signatures.douyin_verified("s3cret", DOUYIN_BODY, keyed)


def test_xiaohongshu_signature_is_sha1_prefixed_hmac_sha1_of_the_raw_body_under_the_token() -> None:
    token = "90f15e35e28f4d2c51495363558ae4c3"
    body = '{"data":{"leads_id":"L1"},"timestamp":1733540000000,"source":"聚光"}'.encode()
    mac = hmac.new(token.encode("utf-8"), body, hashlib.sha1).hexdigest()
    header = f"sha1={mac}"
    assert signatures.xiaohongshu_signature(token, body) == header
    assert signatures.xiaohongshu_verified(token, body, header)
    assert not signatures.xiaohongshu_verified(token, body, mac)  # the prefix is part of it
    assert not signatures.xiaohongshu_verified(token, body + b" ", header)


def test_youzan_sign_is_md5_of_client_id_msg_as_sent_and_client_secret() -> None:
    client_id, secret = "yz-client", "yz-secret"
    msg = quote('{"tid":"E2026","refund_id":"R1"}')  # sent URL-encoded; signed as sent
    expected = hashlib.md5(
        (client_id + msg + secret).encode("utf-8"), usedforsecurity=False
    ).hexdigest()
    assert signatures.youzan_sign(client_id, msg, secret) == expected
    assert signatures.youzan_verified(client_id, msg, secret, expected)
    assert not signatures.youzan_verified(client_id, msg.replace("R1", "R2"), secret, expected)


def test_order_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    secret, timestamp = "ossec_test", "1765100000"
    body = b'{"type":"order.paid","order_id":"E1","amount":12900}'
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    header = f"sha256={mac}"
    assert signatures.order_signature(secret, timestamp, body) == header
    now = 1765100000.0
    assert signatures.order_verified([secret], timestamp, body, header, now)
    # either listed signature may match (a rotation's overlap), with either secret
    assert signatures.order_verified(["new", secret], timestamp, body, f"sha256=00,{header}", now)
    assert not signatures.order_verified([secret], timestamp, body + b"x", header, now)


def test_order_signature_refuses_a_timestamp_outside_the_replay_window() -> None:
    secret, timestamp = "ossec_test", "1765100000"
    body = b"{}"
    header = signatures.order_signature(secret, timestamp, body)
    window = signatures.ORDER_REPLAY_WINDOW
    assert signatures.order_verified([secret], timestamp, body, header, 1765100000.0 + window)
    assert not signatures.order_verified(
        [secret], timestamp, body, header, 1765100000.0 + window + 1
    )
    assert not signatures.order_verified(
        [secret], timestamp, body, header, 1765100000.0 - window - 1
    )
    assert not signatures.order_verified([secret], "not-a-time", body, header, 1765100000.0)
