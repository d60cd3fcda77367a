"""WeChat message push crypto against vectors computed here, step by step, from the published
scheme: `signature` = SHA1 of the sorted (token, timestamp, nonce); `msg_signature` adds the
ciphertext; the ciphertext is AES-256-CBC (key = base64(EncodingAESKey + "="), IV = its first 16
bytes) of random(16) + 4-byte big-endian length + message + appid, PKCS#7-padded to 32 bytes."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pydantic import SecretStr

from connectors.wechat.envelope import WeChatCodec, parse_message, url_signature
from connectors.wecom.crypto import CallbackVerificationError, WeComCrypto
from domain.wechat import WeChatAppSettings

TOKEN = "pamtest"
TIMESTAMP = "1409304348"
NONCE = "xxxxxx"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"
RANDOM16 = b"0123456789abcdef"
MESSAGE = (
    b"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
    b"<FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1409304348</CreateTime>"
    b"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
    b"<EventKey><![CDATA[qrscene_spring]]></EventKey></xml>"
)


def settings(appid: str = APPID) -> WeChatAppSettings:
    return WeChatAppSettings(
        appid=appid,
        appsecret=SecretStr("secret"),
        callback_token=SecretStr(TOKEN),
        encoding_aes_key=SecretStr(AES_KEY),
        callback_id="c" * 24,
    )


def reference_sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def reference_encrypt(message: bytes, appid: str = APPID) -> str:
    key = base64.b64decode(AES_KEY + "=")
    assert len(key) == 32
    body = RANDOM16 + struct.pack(">I", len(message)) + message + appid.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()


def envelope(encrypted: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()


def test_url_signature_is_sha1_of_the_sorted_token_timestamp_and_nonce() -> None:
    expected = hashlib.sha1(
        "".join(sorted([TOKEN, TIMESTAMP, NONCE])).encode(), usedforsecurity=False
    ).hexdigest()
    assert url_signature(TOKEN, TIMESTAMP, NONCE) == expected
    codec = WeChatCodec()
    assert codec.verify_url(settings(), expected, TIMESTAMP, NONCE, "echo-me") == "echo-me"
    with pytest.raises(CallbackVerificationError, match="signature"):
        codec.verify_url(settings(), expected[:-1] + "0", TIMESTAMP, NONCE, "echo-me")


def test_encryption_matches_the_published_scheme_byte_for_byte() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, APPID)
    encrypted = crypto.encrypt(MESSAGE, random16=RANDOM16)
    assert encrypted == reference_encrypt(MESSAGE)
    assert crypto.sign(TIMESTAMP, NONCE, encrypted) == reference_sha1(
        TOKEN, TIMESTAMP, NONCE, encrypted
    )


def test_a_push_encrypted_and_signed_independently_opens_to_its_message() -> None:
    encrypted = reference_encrypt(MESSAGE)
    msg_signature = reference_sha1(TOKEN, TIMESTAMP, NONCE, encrypted)
    message = WeChatCodec().open(settings(), msg_signature, TIMESTAMP, NONCE, envelope(encrypted))
    assert message.get("FromUserName") == "oUser1"
    assert message.get("EventKey") == "qrscene_spring"


def test_a_tampered_ciphertext_fails_the_signature_before_decryption() -> None:
    encrypted = reference_encrypt(MESSAGE)
    msg_signature = reference_sha1(TOKEN, TIMESTAMP, NONCE, encrypted)
    tampered = ("B" if encrypted[0] != "B" else "C") + encrypted[1:]
    with pytest.raises(CallbackVerificationError, match="signature does not match"):
        WeChatCodec().open(settings(), msg_signature, TIMESTAMP, NONCE, envelope(tampered))


def test_a_push_for_another_appid_is_rejected_although_correctly_signed() -> None:
    encrypted = reference_encrypt(MESSAGE, appid="wxother0000000000")
    msg_signature = reference_sha1(TOKEN, TIMESTAMP, NONCE, encrypted)
    with pytest.raises(CallbackVerificationError, match="receiveid"):
        WeChatCodec().open(settings(), msg_signature, TIMESTAMP, NONCE, envelope(encrypted))


def test_popup_lists_become_entries() -> None:
    body = (
        b"<xml><FromUserName>o1</FromUserName><Event>subscribe_msg_popup_event</Event>"
        b"<SubscribeMsgPopupEvent><List><TemplateId>T1</TemplateId>"
        b"<SubscribeStatusString>accept</SubscribeStatusString><PopupScene>0</PopupScene></List>"
        b"<List><TemplateId>T2</TemplateId><SubscribeStatusString>reject</SubscribeStatusString>"
        b"</List></SubscribeMsgPopupEvent></xml>"
    )
    message = parse_message(body)
    assert [entry["TemplateId"] for entry in message.entries] == ["T1", "T2"]
    assert message.entries[0]["SubscribeStatusString"] == "accept"


def test_xml_with_a_dtd_is_rejected() -> None:
    body = b'<!DOCTYPE x [<!ENTITY e "boom">]><xml><Event>&e;</Event></xml>'
    with pytest.raises(CallbackVerificationError, match="malformed"):
        parse_message(body)
