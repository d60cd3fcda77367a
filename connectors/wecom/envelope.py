"""The XML envelopes around WeCom callbacks, and the codec the callback endpoint uses.

A callback arrives as `POST ?msg_signature&timestamp&nonce` with an outer XML body whose
`Encrypt` element holds the ciphertext; the decrypted inner message is a flat XML document
(`<xml><ToUserName>…</ToUserName><Event>…</Event>…</xml>`). XML is parsed with defusedxml, so a
document with a DTD or entities is rejected before anything reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.wecom.crypto import CallbackVerificationError, WeComCrypto
from domain.channels import WeComCredentials

FieldValue = str | int | Sequence[str]


def parse_flat_xml(body: bytes) -> dict[str, str]:
    """Top-level children of the root as {tag: text}; `CallbackVerificationError` if malformed.

    An element with children (such as `MemChangeList` with its `Item`s) becomes the
    comma-joined texts of those children. A tag that appears twice is rejected as ambiguous.
    """
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CallbackVerificationError("malformed XML") from exc
    fields: dict[str, str] = {}
    for child in root:
        if child.tag in fields:
            raise CallbackVerificationError(f"duplicate element {child.tag}")
        if len(child):
            fields[child.tag] = ",".join((item.text or "").strip() for item in child)
        else:
            fields[child.tag] = child.text or ""
    return fields


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside one CDATA section; split it across two.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def flat_xml(fields: Mapping[str, FieldValue]) -> str:
    """A flat `<xml>` document as WeCom writes it: strings in CDATA, integers bare, lists as Items."""
    parts = ["<xml>"]
    for tag, value in fields.items():
        if isinstance(value, int):
            inner = str(value)
        elif isinstance(value, str):
            inner = _cdata(value)
        else:
            inner = "".join(f"<Item>{_cdata(item)}</Item>" for item in value)
        parts.append(f"<{tag}>{inner}</{tag}>")
    parts.append("</xml>")
    return "".join(parts)


def seal(crypto: WeComCrypto, plaintext_xml: str, timestamp: str, nonce: str) -> bytes:
    """An encrypted, signed envelope: `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`."""
    encrypted = crypto.encrypt(plaintext_xml.encode("utf-8"))
    return flat_xml(
        {
            "Encrypt": encrypted,
            "MsgSignature": crypto.sign(timestamp, nonce, encrypted),
            "TimeStamp": timestamp,
            "Nonce": nonce,
        }
    ).encode("utf-8")


def open_callback(
    crypto: WeComCrypto, msg_signature: str, timestamp: str, nonce: str, body: bytes
) -> dict[str, str]:
    """The inner message of a callback POST, after the signature and CorpID checks."""
    outer = parse_flat_xml(body)
    encrypted = outer.get("Encrypt")
    if not encrypted:
        raise CallbackVerificationError("no Encrypt element")
    return parse_flat_xml(crypto.verify_and_decrypt(msg_signature, timestamp, nonce, encrypted))


def verify_url(
    crypto: WeComCrypto, msg_signature: str, timestamp: str, nonce: str, echostr: str
) -> str:
    """The decrypted `echostr` a URL verification GET must be answered with."""
    plain = crypto.verify_and_decrypt(msg_signature, timestamp, nonce, echostr)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CallbackVerificationError("echostr is not UTF-8") from exc


def crypto_for(credentials: WeComCredentials) -> WeComCrypto:
    """The crypto of a tenant's callback URL; `ValueError` if its EncodingAESKey is invalid."""
    return WeComCrypto(
        credentials.callback_token.get_secret_value(),
        credentials.encoding_aes_key.get_secret_value(),
        credentials.corp_id,
    )


class CallbackCodec:
    """Verifies and opens callbacks for a tenant's credentials; every rejection is a ValueError."""

    def verify_url(
        self,
        credentials: WeComCredentials,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        echostr: str,
    ) -> str:
        """The echostr to answer a URL verification with; `CallbackVerificationError` if it fails a check."""
        return verify_url(crypto_for(credentials), msg_signature, timestamp, nonce, echostr)

    def open(
        self,
        credentials: WeComCredentials,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
    ) -> dict[str, str]:
        """The inner fields of a callback POST; `CallbackVerificationError` if it fails a check."""
        return open_callback(crypto_for(credentials), msg_signature, timestamp, nonce, body)
