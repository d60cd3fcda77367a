"""Where the key box comes from: SECRETS_KEYS, or a dev-only key file on embedded defaults."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime.secrets import DEV_KEY_FILE, SecretsNotConfigured, secret_box
from runtime.settings import Settings, env_names
from store.secretbox import SecretPlace, encode_key

KEY_1 = encode_key(bytes(range(32)))
KEY_2 = encode_key(bytes(range(1, 33)))
PLACE = SecretPlace("t1", "channel_credentials", "secret")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_names():
        monkeypatch.delenv(name, raising=False)


def test_secrets_keys_seal_under_the_primary_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_KEYS", json.dumps({"old": KEY_1, "new": KEY_2}))
    monkeypatch.setenv("SECRETS_PRIMARY_KEY_ID", "new")
    monkeypatch.setenv("MONGODB_URI", "mongodb://mongo.internal:27017")
    settings = Settings()

    box = secret_box(settings)

    assert box.primary_key_id == "new"
    assert box.seal("x", PLACE)["kid"] == "new"
    assert KEY_1 not in repr(settings) and KEY_1 not in str(settings.model_dump())


def test_one_key_needs_no_primary_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_KEYS", json.dumps({"only": KEY_1}))
    assert secret_box(Settings()).primary_key_id == "only"


@pytest.mark.parametrize(
    ("keys", "primary", "message"),
    [
        (json.dumps({"a": KEY_1, "b": KEY_2}), None, "must name one of several"),
        (json.dumps({"a": KEY_1}), "zz", "'zz' is not a key"),
        (json.dumps({"a": encode_key(b"short")}), None, "'a' must decode to 32 bytes"),
        ("not json", None, "JSON object"),
        (None, "a", "SECRETS_KEYS is not"),
    ],
)
def test_bad_secrets_keys_are_refused_without_showing_them(
    monkeypatch: pytest.MonkeyPatch, keys: str | None, primary: str | None, message: str
) -> None:
    if keys is not None:
        monkeypatch.setenv("SECRETS_KEYS", keys)
    if primary is not None:
        monkeypatch.setenv("SECRETS_PRIMARY_KEY_ID", primary)
    with pytest.raises(ValidationError, match=message) as caught:
        Settings()
    assert KEY_1 not in str(caught.value) and encode_key(b"short") not in str(caught.value)


def test_a_configured_mongodb_without_secrets_keys_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://mongo.internal:27017")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(SecretsNotConfigured, match="SECRETS_KEYS is required with MONGODB_URI"):
        secret_box(Settings())
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_embedded_defaults_make_one_labelled_owner_only_dev_key_and_keep_it(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    first = secret_box(settings)
    sealed = first.seal("kept", PLACE)
    again = secret_box(settings)

    path = tmp_path / "data" / DEV_KEY_FILE
    assert "dev-only" in json.loads(path.read_text())["warning"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert again.open(sealed, PLACE) == "kept"
    assert [p.name for p in path.parent.iterdir()] == [DEV_KEY_FILE]
