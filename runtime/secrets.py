"""The key box sealing stored secrets, from SECRETS_KEYS or, on embedded defaults, a dev key file.

Without SECRETS_KEYS, a process on the embedded MongoDB (`make run`, the tests' stacks) seals
under a random key kept in `DATA_DIR/dev-secrets-key.json` (made on first use, owner-only,
labelled dev-only): the data it protects lives in the same directory, so it protects a copied
database, not a copied DATA_DIR. A process on a configured MongoDB (MONGODB_URI) refuses to
start without SECRETS_KEYS: a key file on a container's disk would be lost on the next deploy,
and every secret with it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from runtime.settings import Settings
from store.secretbox import KEY_BYTES, SecretBox, encode_key, generate_key, parse_keys

DEV_KEY_FILE = "dev-secrets-key.json"
DEV_KEY_ID = "dev-only"

log = logging.getLogger(__name__)


class SecretsNotConfigured(RuntimeError):
    """SECRETS_KEYS is required here and not set."""


def secret_box(settings: Settings) -> SecretBox:
    """The box for this process: SECRETS_KEYS, else (embedded MongoDB only) the dev key file."""
    configured = settings.secret_keys()
    if configured is not None:
        keys, primary = configured
        return SecretBox(keys, primary)
    if not settings.uses_embedded_mongodb:
        raise SecretsNotConfigured(
            "SECRETS_KEYS is required with MONGODB_URI: a JSON object of key id -> base64 "
            f'{KEY_BYTES}-byte key, e.g. SECRETS_KEYS=\'{{"k1": "<base64>"}}\' '
            '(make one with: python -c "import base64,os;print(base64.b64encode(os.urandom(32))'
            '.decode())")'
        )
    return SecretBox(_dev_keys(settings.data_dir), DEV_KEY_ID)


def _dev_keys(data_dir: Path) -> dict[str, bytes]:
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        document = {
            "warning": "dev-only key sealing the embedded database's secrets; set SECRETS_KEYS "
            "in production",
            "keys": {DEV_KEY_ID: encode_key(generate_key())},
        }
        # Written aside, then linked into place: linking fails if the file exists, so two
        # processes starting at once keep one key, and no one reads a half-written file.
        staging = data_dir / f".{DEV_KEY_FILE}.{os.getpid()}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
        try:
            os.link(staging, path)
            log.warning("made a dev-only secrets key in %s (set SECRETS_KEYS in production)", path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    document = json.loads(path.read_text(encoding="utf-8"))
    return parse_keys(json.dumps(document["keys"]))
