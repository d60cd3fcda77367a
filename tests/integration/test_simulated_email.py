"""`omnijourney run`'s e-mail wiring: the resources register the `email` channel with the
deployment's SMTP allow-list and PUBLIC_BASE_URL, and the local sink (`runtime.simulated_email`)
receives what the demo tenant sends — only because `run` allows the sink's address."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from connectors.base import ActionRequest, CustomerContact
from connectors.errors import PermanentChannelError
from runtime.resources import open_resources
from runtime.settings import Settings
from runtime.simulated_email import simulated_email, with_sink_allowed
from store.secretbox import encode_key, generate_key


def _request() -> ActionRequest:
    return ActionRequest(
        tenant_id="demo",
        enrollment_id="demo:j:c",
        node_id="mail",
        action="send",
        params={"subject": "Hello", "text": "Body"},
        idempotency_key="demo:j:c/mail/1",
        customer=CustomerContact(customer_id="c", identities={"email": "lin@shop.example"}),
    )


@pytest.mark.parametrize("allowed", [True, False])
async def test_the_demo_tenant_mails_the_local_sink_when_run_allows_it(
    mongo_uri: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    allowed: bool,
) -> None:
    settings = Settings(
        mongodb_database=mongo_db.name,
        data_dir=tmp_path,
        public_base_url="https://journeys.brand.example/",
        secrets_keys=SecretStr(json.dumps({"t": encode_key(generate_key())})),
    )
    if allowed:
        settings = with_sink_allowed(settings)
    address = temporal_env.client.service_client.config.target_host
    async with (
        open_resources(settings, mongo_uri, address) as resources,
        simulated_email(resources.store, "demo") as mailbox,
    ):
        connector = resources.registry.get("email")
        assert connector is resources.email
        if not allowed:
            with pytest.raises(PermanentChannelError) as refused:
                await connector.execute(_request())
            assert refused.value.code == "destination_not_allowed"
            return
        await connector.execute(_request())
        [received] = mailbox.sink.received
        link = received.message["List-Unsubscribe"]
        assert link.startswith("<https://journeys.brand.example/v1/unsubscribe/")
