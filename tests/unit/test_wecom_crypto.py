"""WeCom callback crypto: our encryption ↔ our decryption, fixed vectors, and tampering.

The fixed vectors are computed here a second time, straight from the published scheme (/91144)
with hashlib and the `cryptography` AES primitive, padding by hand; one vector is also a
literal, so that a regression shared by both computations still fails.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from connectors.wecom.crypto import CallbackVerificationError, WeComCrypto
from connectors.wecom.envelope import (
    CallbackCodec,
    flat_xml,
    open_callback,
    parse_flat_xml,
    seal,
    verify_url,
)
from domain.channels import WeComCredentials

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OTHER_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORP_ID = "wx5823bf96d3bd56c7"
RANDOM16 = b"0123456789abcdef"
TIMESTAMP = "1409659813"
NONCE = "1372623149"
MESSAGE = b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Event><![CDATA[change_external_contact]]></Event></xml>"

# Computed once (and checked with the openssl CLI) and frozen: catches a regression shared by
# both computations above.
LITERAL_MESSAGE = b"hello wecom"
LITERAL_ENCRYPTED = (
    "sKqRbbiSUnDhFHOvPjtUMcKdsAm1ARW23+yBY8U5XwywL+EYP2L4tSGTFZwEQdiO+0Jn+fnP/QbkJYL4vwk8VQ=="
)
LITERAL_SIGNATURE = "30138fd59e37b8e49e1c8bd9105d16e1a8319bce"


def crypto(token: str = TOKEN, key: str = AES_KEY, receive_id: str = CORP_ID) -> WeComCrypto:
    return WeComCrypto(token, key, receive_id)


# --- the scheme, computed independently -----------------------------------------------------


def reference_key(encoding_aes_key: str = AES_KEY) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def reference_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def raw_encrypt(padded: bytes, encoding_aes_key: str = AES_KEY) -> str:
    """AES-256-CBC over already padded bytes, IV = first 16 key bytes; base64."""
    key = reference_key(encoding_aes_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def reference_plaintext(message: bytes, receive_id: str = CORP_ID) -> bytes:
    return RANDOM16 + struct.pack(">I", len(message)) + message + receive_id.encode()


def pad32(data: bytes) -> bytes:
    amount = 32 - len(data) % 32
    return data + bytes([amount] * amount)


def reference_encrypt(message: bytes, receive_id: str = CORP_ID) -> str:
    return raw_encrypt(pad32(reference_plaintext(message, receive_id)))


# --- fixed vectors --------------------------------------------------------------------------


def test_encryption_matches_the_scheme_computed_independently() -> None:
    assert crypto().encrypt(MESSAGE, random16=RANDOM16) == reference_encrypt(MESSAGE)


def test_signature_matches_sha1_of_the_sorted_strings() -> None:
    encrypted = reference_encrypt(MESSAGE)
    assert crypto().sign(TIMESTAMP, NONCE, encrypted) == reference_signature(
        TOKEN, TIMESTAMP, NONCE, encrypted
    )


def test_padding_fills_to_a_multiple_of_32_bytes_even_when_already_aligned() -> None:
    # 16 + 4 + 12 + 0 = 32 bytes of plaintext: a full block of 32 padding bytes follows.
    c = WeComCrypto(TOKEN, AES_KEY, "")
    encrypted = c.encrypt(b"x" * 12, random16=RANDOM16)
    assert len(base64.b64decode(encrypted)) == 64
    assert encrypted == raw_encrypt(RANDOM16 + struct.pack(">I", 12) + b"x" * 12 + bytes([32]) * 32)


def test_the_frozen_literal_vector_still_encrypts_signs_and_decrypts() -> None:
    c = crypto()
    assert c.encrypt(LITERAL_MESSAGE, random16=RANDOM16) == LITERAL_ENCRYPTED
    assert reference_encrypt(LITERAL_MESSAGE) == LITERAL_ENCRYPTED
    assert c.sign(TIMESTAMP, NONCE, LITERAL_ENCRYPTED) == LITERAL_SIGNATURE
    assert (
        c.verify_and_decrypt(LITERAL_SIGNATURE, TIMESTAMP, NONCE, LITERAL_ENCRYPTED)
        == LITERAL_MESSAGE
    )


def test_independently_encrypted_message_decrypts() -> None:
    encrypted = reference_encrypt(MESSAGE)
    signature = reference_signature(TOKEN, TIMESTAMP, NONCE, encrypted)
    assert crypto().verify_and_decrypt(signature, TIMESTAMP, NONCE, encrypted) == MESSAGE


# --- round trips ----------------------------------------------------------------------------


@given(message=st.binary(max_size=2048), receive_id=st.text(min_size=1, max_size=40))
def test_any_message_survives_encryption_and_decryption(message: bytes, receive_id: str) -> None:
    c = crypto(receive_id=receive_id)
    encrypted = c.encrypt(message)
    assert c.verify_and_decrypt(
        c.sign(TIMESTAMP, NONCE, encrypted), TIMESTAMP, NONCE, encrypted
    ) == (message)


xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=200,
)


@given(fields=st.dictionaries(st.from_regex(r"[A-Z][A-Za-z]{0,15}", fullmatch=True), xml_text))
def test_any_flat_message_survives_sealing_and_opening(fields: dict[str, str]) -> None:
    c = crypto()
    sealed = seal(c, flat_xml(fields), TIMESTAMP, NONCE)
    outer = parse_flat_xml(sealed)
    assert outer["TimeStamp"] == TIMESTAMP and outer["Nonce"] == NONCE
    assert open_callback(c, outer["MsgSignature"], TIMESTAMP, NONCE, sealed) == fields


def test_nested_items_read_as_a_comma_joined_list() -> None:
    body = flat_xml({"ChatId": "wr1", "MemChangeList": ["wm1", "wm2"], "CreateTime": 17}).encode()
    assert parse_flat_xml(body) == {"ChatId": "wr1", "MemChangeList": "wm1,wm2", "CreateTime": "17"}


def test_url_verification_answers_the_decrypted_echostr() -> None:
    c = crypto()
    echostr = c.encrypt(b"1616140317555161061")
    signature = c.sign(TIMESTAMP, NONCE, echostr)
    assert verify_url(c, signature, TIMESTAMP, NONCE, echostr) == "1616140317555161061"


def credentials(key: str = AES_KEY) -> WeComCredentials:
    return WeComCredentials(
        tenant_id="t1",
        corp_id=CORP_ID,
        secret=SecretStr("app-secret"),
        callback_token=SecretStr(TOKEN),
        encoding_aes_key=SecretStr(key),
        callback_id="cb_0123456789abcdef",
    )


def test_codec_opens_a_callback_with_the_tenants_credentials() -> None:
    c = crypto()
    inner = flat_xml({"ToUserName": CORP_ID, "ChangeType": "add_external_contact"})
    encrypted = c.encrypt(inner.encode())
    body = flat_xml({"ToUserName": CORP_ID, "AgentID": "", "Encrypt": encrypted}).encode()
    signature = c.sign(TIMESTAMP, NONCE, encrypted)
    fields = CallbackCodec().open(credentials(), signature, TIMESTAMP, NONCE, body)
    assert fields == {"ToUserName": CORP_ID, "ChangeType": "add_external_contact"}
    echostr = c.encrypt(b"echo")
    assert (
        CallbackCodec().verify_url(
            credentials(), c.sign(TIMESTAMP, NONCE, echostr), TIMESTAMP, NONCE, echostr
        )
        == "echo"
    )
    with pytest.raises(ValueError):
        CallbackCodec().open(credentials(OTHER_AES_KEY), signature, TIMESTAMP, NONCE, body)


# --- tampering ------------------------------------------------------------------------------


def signed(encrypted: str) -> str:
    return reference_signature(TOKEN, TIMESTAMP, NONCE, encrypted)


def rejected(encrypted: str, signature: str | None = None, c: WeComCrypto | None = None) -> str:
    """The reason `encrypted` is rejected (signed correctly unless told otherwise)."""
    with pytest.raises(CallbackVerificationError) as caught:
        (c or crypto()).verify_and_decrypt(
            signed(encrypted) if signature is None else signature, TIMESTAMP, NONCE, encrypted
        )
    assert AES_KEY not in str(caught.value) and TOKEN not in str(caught.value)
    return caught.value.reason


def test_wrong_signature_is_rejected() -> None:
    encrypted = reference_encrypt(MESSAGE)
    assert rejected(encrypted, "0" * 40) == "signature does not match"
    assert rejected(encrypted, "") == "signature does not match"
    assert rejected(encrypted, "签名") == "signature does not match"


def test_signature_over_another_timestamp_or_nonce_is_rejected() -> None:
    encrypted = reference_encrypt(MESSAGE)
    for signature in (
        reference_signature(TOKEN, "1409659814", NONCE, encrypted),
        reference_signature(TOKEN, TIMESTAMP, "other", encrypted),
        reference_signature("other-token", TIMESTAMP, NONCE, encrypted),
    ):
        assert rejected(encrypted, signature) == "signature does not match"


def flip(encrypted: str, index: int) -> str:
    raw = bytearray(base64.b64decode(encrypted))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_flipped_ciphertext_byte_is_rejected() -> None:
    encrypted = reference_encrypt(MESSAGE)
    for index in (0, 5, 40, -1):
        assert rejected(flip(encrypted, index), signed(encrypted)) == "signature does not match"
    # Even re-signed by someone holding the token but not the key, the garbled tail fails.
    assert rejected(flip(encrypted, -1)) == "bad padding"
    assert rejected(flip(encrypted, 0)) == "length field exceeds the plaintext"


def test_truncated_ciphertext_is_rejected() -> None:
    encrypted = reference_encrypt(MESSAGE)
    raw = base64.b64decode(encrypted)
    assert rejected(encrypted[:-8], signed(encrypted)) == "signature does not match"
    one_block_short = base64.b64encode(raw[:-16]).decode()
    assert rejected(one_block_short) == "bad padding"
    ragged = base64.b64encode(raw[:-3]).decode()
    assert rejected(ragged) == "ciphertext length is not a multiple of the block size"
    assert rejected("") == "ciphertext length is not a multiple of the block size"


def test_bad_base64_is_rejected() -> None:
    for encrypted in ("not base64!", "abc", "ZxdaeRjAgEaBy9j", "Zxda\nRjAg"):
        assert rejected(encrypted) == "ciphertext is not base64"


def test_wrong_encoding_aes_key_is_rejected() -> None:
    encrypted = reference_encrypt(MESSAGE)
    assert rejected(encrypted, c=crypto(key=OTHER_AES_KEY)) in {
        "bad padding",
        "length field exceeds the plaintext",
        "receiveid does not match",
    }


def test_wrong_receive_id_is_rejected() -> None:
    assert rejected(reference_encrypt(MESSAGE, receive_id="ww-other")) == "receiveid does not match"
    assert rejected(reference_encrypt(MESSAGE, receive_id="")) == "receiveid does not match"
    assert (
        rejected(reference_encrypt(MESSAGE, receive_id=CORP_ID + "x")) == "receiveid does not match"
    )


@pytest.mark.parametrize(
    "tail",
    [bytes([0]), bytes([33]), bytes([255]), bytes([7, 7, 7, 7, 7, 7, 6, 7])],
    ids=["zero", "over_32", "over_block", "inconsistent"],
)
def test_bad_padding_bytes_are_rejected(tail: bytes) -> None:
    body = reference_plaintext(MESSAGE)
    filler = (-(len(body) + len(tail))) % 32
    padded = body + b"\x07" * filler + tail if tail[-1] == 7 else body + b"\x00" * filler + tail
    assert len(padded) % 32 == 0
    assert rejected(raw_encrypt(padded)) == "bad padding"


def test_length_field_larger_than_the_plaintext_is_rejected() -> None:
    too_long = RANDOM16 + struct.pack(">I", len(MESSAGE) + len(CORP_ID) + 1) + MESSAGE + b"ww"
    assert rejected(raw_encrypt(pad32(too_long))) == "length field exceeds the plaintext"
    huge = RANDOM16 + struct.pack(">I", 2**32 - 1) + MESSAGE + CORP_ID.encode()
    assert rejected(raw_encrypt(pad32(huge))) == "length field exceeds the plaintext"
    short = b"0123456789"
    assert rejected(raw_encrypt(pad32(short))) == "plaintext too short"


@pytest.mark.parametrize(
    "body",
    [b"", b"<xml>", b"<xml><A>1</B></xml>", b"not xml", b"<xml><A>1</A><A>2</A></xml>"],
    ids=["empty", "unclosed", "mismatched", "text", "duplicate"],
)
def test_malformed_xml_is_rejected(body: bytes) -> None:
    with pytest.raises(CallbackVerificationError):
        parse_flat_xml(body)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><A>&b;</A></xml>',
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>',
        b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml><A>1</A></xml>',
    ],
    ids=["entity_expansion", "external_entity", "external_dtd"],
)
def test_xml_with_a_dtd_or_entities_is_rejected(body: bytes) -> None:
    with pytest.raises(CallbackVerificationError):
        parse_flat_xml(body)


def test_encrypted_malformed_or_hostile_inner_xml_is_rejected() -> None:
    c = crypto()
    for inner in (b"<xml><A>", b'<!DOCTYPE xml [<!ENTITY a "x">]><xml><A>&a;</A></xml>'):
        encrypted = c.encrypt(inner)
        body = flat_xml({"Encrypt": encrypted}).encode()
        with pytest.raises(CallbackVerificationError, match="malformed XML"):
            open_callback(c, c.sign(TIMESTAMP, NONCE, encrypted), TIMESTAMP, NONCE, body)


def test_callback_without_an_encrypt_element_is_rejected() -> None:
    with pytest.raises(CallbackVerificationError, match="no Encrypt"):
        open_callback(
            crypto(), "0" * 40, TIMESTAMP, NONCE, b"<xml><ToUserName>x</ToUserName></xml>"
        )


def test_echostr_that_fails_a_check_is_rejected() -> None:
    c = crypto()
    echostr = c.encrypt(b"1616140317555161061")
    with pytest.raises(CallbackVerificationError):
        verify_url(c, c.sign(TIMESTAMP, "other", echostr), TIMESTAMP, NONCE, echostr)
    not_utf8 = c.encrypt(b"\xff\xfe")
    with pytest.raises(CallbackVerificationError, match="UTF-8"):
        verify_url(c, c.sign(TIMESTAMP, NONCE, not_utf8), TIMESTAMP, NONCE, not_utf8)


@pytest.mark.parametrize("key", ["short", AES_KEY + "A", AES_KEY[:-1] + "!", AES_KEY[:-1] + "="])
def test_an_invalid_encoding_aes_key_is_refused_at_construction(key: str) -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeComCrypto(TOKEN, key, CORP_ID)


def test_random16_must_be_16_bytes() -> None:
    with pytest.raises(ValueError):
        crypto().encrypt(b"x", random16=b"short")
