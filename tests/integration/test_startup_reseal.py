"""Opening the process's resources seals secrets a release before sealing stored in plain text."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from runtime.resources import open_resources
from runtime.settings import Settings
from store.mongo import CHANNEL_CREDENTIALS
from store.secretbox import encode_key

KEY = bytes(range(3, 35))
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
LEGACY_WEBHOOK_SECRET = "whsec-legacy-deployment-wide"


async def test_start_up_seals_plain_text_credentials_and_warns_of_the_deprecated_setting(
    mongo_uri: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await mongo_db[CHANNEL_CREDENTIALS].insert_one(
        {
            "_id": "acme",
            "tenant_id": "acme",
            "channel": "wecom",
            "corp_id": "ww-acme",
            "agent_id": None,
            "secret": "plain-app-secret",
            "callback_token": "plain-callback-token",
            "encoding_aes_key": AES_KEY,
            "base_url": "https://qyapi.weixin.qq.com/cgi-bin/",
            "callback_id": "cb-acme-0123456789abcdef",
            "mass_message_limit": "per_month",
        }
    )
    settings = Settings(
        mongodb_database=mongo_db.name,
        data_dir=tmp_path,
        secrets_keys=SecretStr(json.dumps({"prod-2027": encode_key(KEY)})),
        webhook_signing_secret=SecretStr(LEGACY_WEBHOOK_SECRET),
    )
    address = temporal_env.client.service_client.config.target_host
    caplog.set_level(logging.INFO)

    async with open_resources(settings, mongo_uri, address) as resources:
        doc = await mongo_db[CHANNEL_CREDENTIALS].find_one({"_id": "acme"})
        assert doc is not None
        for name in ("secret", "callback_token", "encoding_aes_key"):
            assert doc[name]["kid"] == "prod-2027", name
        found = await resources.store.wecom_credentials.get("acme")
        assert found is not None and found.secret.get_secret_value() == "plain-app-secret"

    assert "WEBHOOK_SIGNING_SECRET is deprecated" in caplog.text
    for secret in ("plain-app-secret", "plain-callback-token", AES_KEY, LEGACY_WEBHOOK_SECRET):
        assert secret not in caplog.text
