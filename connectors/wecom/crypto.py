"""WeCom callback encryption (企业微信 回调加解密, document /91144).

The scheme, as published:

- `AESKey = base64decode(EncodingAESKey + "=")`: the 43-character EncodingAESKey gives 32 bytes.
- AES-256-CBC with `IV = AESKey[:16]`; PKCS#7 padding to a multiple of **32** bytes (not 16).
- The plaintext is `random(16) + len(msg) as 4-byte big-endian + msg + receiveid` (the CorpID).
- `msg_signature = sha1("".join(sorted([token, timestamp, nonce, encrypt])))` in hex.

WeChat Official Accounts and mini-programs use the same scheme in their safe mode (安全模式),
with the appid as the receive id; their plain URL verification signs `[token, timestamp, nonce]`
alone (`signature(token, timestamp, nonce)`).

Everything that does not check out raises `CallbackVerificationError`, whose message is a short reason
that never contains key material or plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 32  # WeCom pads to 32 bytes, twice the AES block size
_RANDOM = 16
_LENGTH = 4


class CallbackVerificationError(ValueError):
    """A callback (or URL verification) failed a check; nothing from it may be processed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not base64") from exc
    if len(key) != 32:  # pragma: no cover - 43 valid base64 chars + "=" always give 32 bytes
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def signature(*parts: str) -> str:
    """SHA1 (hex) of the sorted concatenation of `parts`: `msg_signature` over (token, timestamp,
    nonce, encrypt); WeChat's plain `signature` over (token, timestamp, nonce)."""
    joined = "".join(sorted(parts))
    return hashlib.sha1(joined.encode("utf-8"), usedforsecurity=False).hexdigest()


class WeComCrypto:
    """Signs, encrypts and decrypts callback payloads for one (token, EncodingAESKey, receive id:
    the CorpID, or a WeChat appid)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self._token = token
        self._key = _aes_key(encoding_aes_key)
        self._receive_id = receive_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The `msg_signature` WeCom sends with `encrypted` at (timestamp, nonce)."""
        return signature(self._token, timestamp, nonce, encrypted)

    def encrypt(self, plaintext: bytes, *, random16: bytes | None = None) -> str:
        """Base64 ciphertext of `plaintext` as WeCom builds it (random prefix, length, CorpID)."""
        prefix = os.urandom(_RANDOM) if random16 is None else random16
        if len(prefix) != _RANDOM:
            raise ValueError("random16 must be 16 bytes")
        body = prefix + struct.pack(">I", len(plaintext)) + plaintext + self._receive_id
        pad = _BLOCK - len(body) % _BLOCK
        body += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside `encrypted`; `CallbackVerificationError` on any malformation or wrong CorpID."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CallbackVerificationError("ciphertext is not base64") from exc
        if not raw or len(raw) % 16:
            raise CallbackVerificationError("ciphertext length is not a multiple of the block size")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= _BLOCK or pad > len(padded) or padded[-pad:] != bytes([pad]) * pad:
            raise CallbackVerificationError("bad padding")
        body = padded[:-pad]
        if len(body) < _RANDOM + _LENGTH:
            raise CallbackVerificationError("plaintext too short")
        (length,) = struct.unpack(">I", body[_RANDOM : _RANDOM + _LENGTH])
        start = _RANDOM + _LENGTH
        if start + length > len(body):
            raise CallbackVerificationError("length field exceeds the plaintext")
        message, receive_id = body[start : start + length], body[start + length :]
        if not hmac.compare_digest(receive_id, self._receive_id):
            raise CallbackVerificationError("receiveid does not match")
        return message

    def verify_and_decrypt(
        self, msg_signature: str, timestamp: str, nonce: str, encrypted: str
    ) -> bytes:
        """Check `msg_signature` first (constant time), then decrypt; `CallbackVerificationError` if not."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode("ascii"), msg_signature.encode("utf-8")):
            raise CallbackVerificationError("signature does not match")
        return self.decrypt(encrypted)
