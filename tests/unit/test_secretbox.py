"""The at-rest cipher: AES-256-GCM under named keys, bound to tenant, collection and field."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from store.secretbox import (
    SecretBox,
    SecretPlace,
    SecretUnreadable,
    UnknownSecretKey,
    encode_key,
    parse_keys,
)

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(100, 132))
PLACE = SecretPlace("t-luckin", "channel_credentials", "secret")
SECRET = "corp-app-secret-0123456789"


def test_a_sealed_secret_opens_to_the_same_text_and_holds_no_plaintext() -> None:
    box = SecretBox({"k1": KEY_1}, "k1")
    sealed = box.seal(SECRET, PLACE)

    assert box.open(sealed, PLACE) == SECRET
    assert sealed["kid"] == "k1" and sealed["v"] == 1
    assert len(sealed["nonce"]) == 12
    assert SECRET.encode() not in sealed["ct"]
    assert box.seal(SECRET, PLACE)["ct"] != sealed["ct"]  # a fresh nonce every time


def test_known_vector_opens_with_the_documented_associated_data() -> None:
    # Sealed by hand with the documented layout: a change of format must be deliberate.
    nonce = bytes(12)
    aad = b"omnijourney.secret.v1\x00t-luckin\x00channel_credentials\x00secret"
    ciphertext = AESGCM(KEY_1).encrypt(nonce, SECRET.encode(), aad)
    sealed = {"v": 1, "kid": "k1", "nonce": nonce, "ct": ciphertext}

    assert SecretBox({"k1": KEY_1}, "k1").open(sealed, PLACE) == SECRET


@pytest.mark.parametrize(
    "elsewhere",
    [
        SecretPlace("t-other", "channel_credentials", "secret"),
        SecretPlace("t-luckin", "webhook_secrets", "secret"),
        SecretPlace("t-luckin", "channel_credentials", "callback_token"),
    ],
    ids=["other-tenant", "other-collection", "other-field"],
)
def test_a_value_copied_to_another_place_does_not_open(elsewhere: SecretPlace) -> None:
    box = SecretBox({"k1": KEY_1}, "k1")
    sealed = box.seal(SECRET, PLACE)

    with pytest.raises(SecretUnreadable, match="fails authentication") as caught:
        box.open(sealed, elsewhere)
    assert SECRET not in str(caught.value)


def test_a_tampered_ciphertext_or_nonce_does_not_open() -> None:
    box = SecretBox({"k1": KEY_1}, "k1")
    sealed = box.seal(SECRET, PLACE)
    flipped = bytes([sealed["ct"][0] ^ 1]) + sealed["ct"][1:]
    with pytest.raises(SecretUnreadable):
        box.open({**sealed, "ct": flipped}, PLACE)
    with pytest.raises(SecretUnreadable):
        box.open({**sealed, "nonce": bytes(12)}, PLACE)
    with pytest.raises(SecretUnreadable):
        box.open({**sealed, "v": 2}, PLACE)
    with pytest.raises(SecretUnreadable):
        box.open("plain", PLACE)


def test_a_missing_key_id_is_named_and_the_ciphertext_is_not_shown() -> None:
    sealed = SecretBox({"k-old": KEY_1}, "k-old").seal(SECRET, PLACE)

    with pytest.raises(UnknownSecretKey) as caught:
        SecretBox({"k-new": KEY_2}, "k-new").open(sealed, PLACE)

    assert caught.value.key_id == "k-old"
    message = str(caught.value)
    assert "'k-old'" in message and "tenant 't-luckin'" in message
    assert sealed["ct"].hex() not in message and repr(sealed["ct"]) not in message


def test_values_under_an_older_key_open_and_are_flagged_for_reseal() -> None:
    old = SecretBox({"k1": KEY_1}, "k1").seal(SECRET, PLACE)
    rotated = SecretBox({"k1": KEY_1, "k2": KEY_2}, "k2")

    assert rotated.open(old, PLACE) == SECRET
    assert rotated.needs_reseal(old)
    assert rotated.needs_reseal("plain text from before sealing")
    resealed = rotated.seal(rotated.reveal(old, PLACE), PLACE)
    assert resealed["kid"] == "k2" and not rotated.needs_reseal(resealed)
    assert rotated.reveal("legacy", PLACE) == "legacy"


def test_secrets_keys_parse_and_bad_ones_are_named_without_their_value() -> None:
    text = json.dumps({"k1": encode_key(KEY_1), "k2": encode_key(KEY_2)})
    assert parse_keys(text) == {"k1": KEY_1, "k2": KEY_2}

    short = encode_key(b"0123456789")
    with pytest.raises(ValueError, match="'k3' must decode to 32 bytes") as caught:
        parse_keys(json.dumps({"k3": short}))
    assert short not in str(caught.value)
    with pytest.raises(ValueError, match="'k4' is not valid base64"):
        parse_keys(json.dumps({"k4": "not base64!"}))
    with pytest.raises(ValueError, match="JSON object"):
        parse_keys("[]")
    with pytest.raises(ValueError, match="primary key id 'k9'"):
        SecretBox({"k1": KEY_1}, "k9")


def test_the_box_repr_names_key_ids_only() -> None:
    box = SecretBox({"k1": KEY_1}, "k1")
    assert repr(box) == "SecretBox(key_ids=['k1'], primary='k1')"
