"""The message push of an Official Account or mini-program: verification, safe-mode envelopes.

- URL verification: `GET ?signature&timestamp&nonce&echostr`, where `signature` is the SHA1 of
  the sorted `[token, timestamp, nonce]`; the answer is `echostr` as sent.
- Events, safe mode (安全模式): `POST ?signature&timestamp&nonce&encrypt_type=aes&msg_signature`
  with `<xml><ToUserName/><Encrypt/></xml>`; `msg_signature` signs `[token, timestamp, nonce,
  Encrypt]` and `Encrypt` is WeCom's scheme (`connectors.wecom.crypto`) with the appid as the
  receive id. The signature is checked before anything inside is decrypted or parsed.

The inner message is flat XML, except the subscription events whose `List` elements (one per
template) become `WeChatMessage.entries`. XML is parsed with defusedxml (no DTDs, no entities).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.wecom.crypto import CallbackVerificationError, WeComCrypto, signature
from connectors.wecom.envelope import FieldValue, flat_xml
from domain.wechat import WeChatAppSettings
from domain.wechat_events import WeChatMessage

_LIST_PARENTS = ("SubscribeMsgPopupEvent", "SubscribeMsgSentEvent", "SubscribeMsgChangeEvent")


def _root(body: bytes) -> Element:
    try:
        return fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CallbackVerificationError("malformed XML") from exc


def parse_message(body: bytes) -> WeChatMessage:
    """The fields and `List` entries of a decrypted message; `CallbackVerificationError` if
    malformed (a tag twice at the top level is ambiguous and rejected)."""
    fields: dict[str, str] = {}
    entries: list[dict[str, str]] = []
    for child in _root(body):
        if child.tag in fields:
            raise CallbackVerificationError(f"duplicate element {child.tag}")
        if child.tag in _LIST_PARENTS:
            entries.extend(
                {item.tag: (item.text or "").strip() for item in entry}
                for entry in child
                if entry.tag == "List"
            )
            fields[child.tag] = ""
        else:
            fields[child.tag] = child.text or ""
    return WeChatMessage(fields, entries)


def message_xml(
    fields: Mapping[str, FieldValue],
    entries: list[dict[str, str]] | None = None,
    list_parent: str | None = None,
) -> str:
    """A message as WeChat writes it (strings in CDATA), with `List` entries under `list_parent`."""
    flat = flat_xml(fields)
    if not entries or list_parent is None:
        return flat
    lists = "".join(
        "<List>" + flat_xml(entry)[len("<xml>") : -len("</xml>")] + "</List>" for entry in entries
    )
    return flat[: -len("</xml>")] + f"<{list_parent}>{lists}</{list_parent}></xml>"


def crypto_for(settings: WeChatAppSettings) -> WeComCrypto:
    """The crypto of an app's message push; `ValueError` if its EncodingAESKey is invalid."""
    return WeComCrypto(
        settings.callback_token.get_secret_value(),
        settings.encoding_aes_key.get_secret_value(),
        settings.appid,
    )


def url_signature(token: str, timestamp: str, nonce: str) -> str:
    """The `signature` of a URL verification (and of every push): over token, timestamp, nonce."""
    return signature(token, timestamp, nonce)


def seal(
    crypto: WeComCrypto, to_user: str, plaintext_xml: str, timestamp: str, nonce: str
) -> tuple[str, bytes]:
    """(msg_signature, body) of a safe-mode push of `plaintext_xml`."""
    encrypted = crypto.encrypt(plaintext_xml.encode("utf-8"))
    body = flat_xml({"ToUserName": to_user, "Encrypt": encrypted}).encode("utf-8")
    return crypto.sign(timestamp, nonce, encrypted), body


class WeChatCodec:
    """Verifies and opens an app's pushes; every rejection is a `CallbackVerificationError`."""

    def verify_url(
        self, settings: WeChatAppSettings, sig: str, timestamp: str, nonce: str, echostr: str
    ) -> str:
        """The echostr to answer a URL verification with, once `signature` checks out."""
        expected = url_signature(settings.callback_token.get_secret_value(), timestamp, nonce)
        if not hmac.compare_digest(expected.encode("ascii"), sig.encode("utf-8")):
            raise CallbackVerificationError("signature does not match")
        return echostr

    def open(
        self,
        settings: WeChatAppSettings,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
    ) -> WeChatMessage:
        """The inner message of a safe-mode push, after the signature and appid checks."""
        outer = _root(body)
        encrypted = [child.text or "" for child in outer if child.tag == "Encrypt"]
        if len(encrypted) != 1 or not encrypted[0].strip():
            raise CallbackVerificationError("no Encrypt element")
        plain = crypto_for(settings).verify_and_decrypt(
            msg_signature, timestamp, nonce, encrypted[0].strip()
        )
        return parse_message(plain)
