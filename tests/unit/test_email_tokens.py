"""Unsubscribe tokens and message ids, checked against values computed here step by step from
the scheme `domain.email` documents (base64url segments, HMAC-SHA256 over the first two)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from domain.email import (
    InvalidTokenError,
    UnsubscribeClaim,
    message_id,
    sign_unsubscribe_token,
    token_tenant,
    verify_unsubscribe_token,
)

KEY = SecretStr("k" * 43)
OTHER_KEY = SecretStr("z" * 43)
CLAIM = UnsubscribeClaim("brand-a", "cus_42", 1_780_000_000)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_the_token_is_the_documented_segments_and_hmac() -> None:
    tenant = _b64(b"brand-a")
    claim = _b64(b'{"c":"cus_42","ch":"email","iat":1780000000,"t":"brand-a"}')
    mac = hmac.new(b"k" * 43, f"{tenant}.{claim}".encode(), hashlib.sha256).digest()
    assert sign_unsubscribe_token(KEY, CLAIM) == f"{tenant}.{claim}.{_b64(mac)}"


def test_a_valid_token_answers_its_claim() -> None:
    token = sign_unsubscribe_token(KEY, CLAIM)
    assert token_tenant(token) == "brand-a"
    assert verify_unsubscribe_token(KEY, token) == CLAIM


def _forge(tenant: str, body: dict[str, object], key: bytes) -> str:
    head, claim = _b64(tenant.encode()), _b64(json.dumps(body).encode())
    mac = hmac.new(key, f"{head}.{claim}".encode(), hashlib.sha256).digest()
    return f"{head}.{claim}.{_b64(mac)}"


def _tampered() -> list[str]:
    token = sign_unsubscribe_token(KEY, CLAIM)
    head, claim, mac = token.split(".")
    other_customer = _b64(b'{"c":"cus_43","ch":"email","iat":1780000000,"t":"brand-a"}')
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    return [
        f"{head}.{other_customer}.{mac}",  # another customer under the same signature
        f"{head}.{claim}.{flipped}",  # one signature character changed
        f"{_b64(b'brand-b')}.{claim}.{mac}",  # the tenant segment swapped
        f"{head}.{claim}.",  # no signature
        f"{head}.{claim}",  # two segments
        "not a token",
        f"{head}.{claim}.{mac}!",  # not base64url
    ]


@pytest.mark.parametrize("token", _tampered())
def test_a_tampered_token_is_rejected(token: str) -> None:
    with pytest.raises(InvalidTokenError):
        verify_unsubscribe_token(KEY, token)


def test_a_token_signed_with_another_key_is_rejected() -> None:
    with pytest.raises(InvalidTokenError, match="signature"):
        verify_unsubscribe_token(OTHER_KEY, sign_unsubscribe_token(KEY, CLAIM))


def test_a_validly_signed_claim_for_another_tenant_or_channel_is_rejected() -> None:
    # Signed with the right key, but the claim names another tenant than the segment...
    mismatched = _forge(
        "brand-a", {"c": "cus_42", "ch": "email", "iat": 1, "t": "brand-b"}, b"k" * 43
    )
    with pytest.raises(InvalidTokenError, match="does not match"):
        verify_unsubscribe_token(KEY, mismatched)
    # ... or another channel.
    sms = _forge("brand-a", {"c": "cus_42", "ch": "sms", "iat": 1, "t": "brand-a"}, b"k" * 43)
    with pytest.raises(InvalidTokenError, match="does not match"):
        verify_unsubscribe_token(KEY, sms)


def test_the_message_id_hashes_tenant_and_key_and_names_the_domain() -> None:
    expected = hashlib.sha256(b"brand-a\x00brand-a:j1:c1/mail/1").hexdigest()[:40]
    assert message_id("brand-a", "brand-a:j1:c1/mail/1", "brand.example") == (
        f"<{expected}@brand.example>"
    )
    assert message_id("brand-b", "brand-a:j1:c1/mail/1", "brand.example") != message_id(
        "brand-a", "brand-a:j1:c1/mail/1", "brand.example"
    )
