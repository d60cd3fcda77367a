"""Secrets at rest: AES-256-GCM under a named key, bound to where the value is stored.

A sealed value is a small document stored in place of the secret:

    {"v": 1,
     "kid": "<key id>",            -- which key of SECRETS_KEYS sealed it (keys rotate)
     "nonce": <12 random bytes>,   -- fresh for every seal
     "ct": <ciphertext || 16-byte GCM tag>}

The associated data (authenticated, not stored) is

    b"omnijourney.secret.v1\\x00" + tenant_id + b"\\x00" + collection + b"\\x00" + field

so a sealed value copied to another tenant's document, collection or field does not open.

Keys: `SecretBox(keys, primary_key_id)` holds every key id → 32-byte key it may need to open;
new values are sealed under the primary one. `needs_reseal` tells which stored values are plain
text (written before sealing existed) or sealed under another key, for the start-up re-seal.

Errors, none of which carries a stored value or a key:

    SecretError
     ├── UnknownSecretKey   -- sealed under a key id the box does not hold (names the key id)
     └── SecretUnreadable   -- tampered with, moved to another place, or not a sealed value
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
_AAD_PREFIX = b"omnijourney.secret.v1\x00"


class SecretError(Exception):
    """A stored secret could not be opened (the message never holds the value)."""


class UnknownSecretKey(SecretError):
    """The value is sealed under a key id this process was not given."""

    def __init__(self, key_id: str, where: str) -> None:
        super().__init__(
            f"the secret in {where} is sealed under key id {key_id!r}, which SECRETS_KEYS does "
            "not hold: add that key back (new values use SECRETS_PRIMARY_KEY_ID)"
        )
        self.key_id = key_id


class SecretUnreadable(SecretError):
    """The value fails authentication: tampered with, copied from elsewhere, or malformed."""


@dataclass(frozen=True, slots=True)
class SecretPlace:
    """Where a secret is stored; bound into its ciphertext as associated data."""

    tenant_id: str
    collection: str
    field: str

    @property
    def associated_data(self) -> bytes:
        parts = (self.tenant_id, self.collection, self.field)
        return _AAD_PREFIX + b"\x00".join(part.encode("utf-8") for part in parts)

    def __str__(self) -> str:
        return f"{self.collection}.{self.field} of tenant {self.tenant_id!r}"


def generate_key() -> bytes:
    """A fresh random 32-byte key."""
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """`key` as SECRETS_KEYS spells it (standard base64)."""
    return base64.b64encode(key).decode("ascii")


def parse_keys(text: str) -> dict[str, bytes]:
    """SECRETS_KEYS (a JSON object of key id → base64 32-byte key) as bytes; `ValueError`
    naming the offending key id (never a key) when malformed."""
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError("must be a JSON object of key id -> base64 key") from None
    if not isinstance(document, dict) or not document:
        raise ValueError("must be a non-empty JSON object of key id -> base64 key")
    keys: dict[str, bytes] = {}
    for key_id, encoded in document.items():
        if not key_id or not isinstance(encoded, str):
            raise ValueError(f"key {key_id!r} must be a non-empty id with a base64 string")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"key {key_id!r} must decode to {KEY_BYTES} bytes, not {len(key)}")
        keys[key_id] = key
    return keys


def is_sealed(stored: object) -> bool:
    """Whether `stored` has the shape of a sealed value (a plain string is not)."""
    return isinstance(stored, Mapping) and "kid" in stored and "ct" in stored


class SecretBox:
    """Seals and opens secrets with AES-256-GCM under named keys (see the module docstring)."""

    def __init__(self, keys: Mapping[str, bytes], primary_key_id: str) -> None:
        if primary_key_id not in keys:
            raise ValueError(f"the primary key id {primary_key_id!r} is not among the keys")
        bad = sorted(key_id for key_id, key in keys.items() if len(key) != KEY_BYTES)
        if bad:
            raise ValueError(f"keys {bad} must be {KEY_BYTES} bytes")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._primary = primary_key_id

    @property
    def primary_key_id(self) -> str:
        """The key id new values are sealed under."""
        return self._primary

    def __repr__(self) -> str:
        return f"SecretBox(key_ids={sorted(self._ciphers)}, primary={self._primary!r})"

    def seal(self, plaintext: str, place: SecretPlace) -> dict[str, Any]:
        """`plaintext` sealed under the primary key for `place`."""
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[self._primary].encrypt(
            nonce, plaintext.encode("utf-8"), place.associated_data
        )
        return {"v": FORMAT_VERSION, "kid": self._primary, "nonce": nonce, "ct": ciphertext}

    def open(self, sealed: object, place: SecretPlace) -> str:
        """The plaintext of a value sealed for `place`; `UnknownSecretKey`, `SecretUnreadable`."""
        if not isinstance(sealed, Mapping) or not is_sealed(sealed):
            raise SecretUnreadable(f"the secret in {place} is not a sealed value")
        key_id = sealed["kid"]
        nonce, ciphertext = sealed.get("nonce"), sealed["ct"]
        if sealed.get("v") != FORMAT_VERSION or not isinstance(key_id, str):
            raise SecretUnreadable(f"the secret in {place} has an unknown format")
        if not isinstance(nonce, bytes) or not isinstance(ciphertext, bytes):
            raise SecretUnreadable(f"the secret in {place} has an unknown format")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownSecretKey(key_id, str(place))
        try:
            plaintext = cipher.decrypt(nonce, ciphertext, place.associated_data)
        except InvalidTag:
            raise SecretUnreadable(
                f"the secret in {place} fails authentication (altered, or copied from "
                "another tenant or field)"
            ) from None
        return plaintext.decode("utf-8")

    def reveal(self, stored: object, place: SecretPlace) -> str:
        """Like `open`, but a plain string (stored before sealing existed) is returned as it is;
        the start-up re-seal replaces those."""
        if isinstance(stored, str):
            return stored
        return self.open(stored, place)

    def needs_reseal(self, stored: object) -> bool:
        """Whether `stored` is plain text or sealed under a key other than the primary one."""
        if isinstance(stored, str):
            return True
        return isinstance(stored, Mapping) and is_sealed(stored) and stored["kid"] != self._primary
