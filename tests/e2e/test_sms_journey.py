"""An SMS journey on the runtime's own wiring (resources, API, workers, the simulated SMS account
of `omnijourney run`) over the real dev server and MongoDB: a journey with an `sms.send` action
is published and triggered through the public API, the simulator receives the signed message,
and its delivery report comes back as an `sms.delivered` event that ends the journey."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from domain.sms import SmsProvider
from runtime.processes import free_port
from runtime.resources import open_resources
from runtime.seed import seed_demo
from runtime.serve import serve
from runtime.settings import Settings
from runtime.simulated_sms import simulated_sms
from store.secretbox import encode_key, generate_key
from tests.api.sms_flow import sms_journey

PHONE = "13500135000"
CREATE = """
mutation($input: CreateJourneyInput!) { createJourney(input: $input) { __typename ... on Journey { id } } }
"""
PUBLISH = "mutation($id: ID!) { publishJourney(id: $id) { __typename } }"
ENROLLMENTS = """
query($journeyId: ID!) {
  enrollments(filter: {journeyId: $journeyId}, first: 5) {
    nodes { status exitReason path deliveries(first: 5) { nodes { channel action status externalId } } }
  }
}
"""


async def _gql(api: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_an_sms_journey_runs_on_the_simulated_provider_and_ends_on_its_report(
    mongo_uri: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    provider: SmsProvider,
) -> None:
    settings = Settings(
        mongodb_database=mongo_db.name,
        api_port=free_port(),
        data_dir=tmp_path,
        secrets_keys=SecretStr(json.dumps({"e2e": encode_key(generate_key())})),
    )
    address = temporal_env.client.service_client.config.target_host
    async with open_resources(settings, mongo_uri, address) as resources:
        seed = await seed_demo(resources.store, tmp_path)
        api_url = settings.local_base_url
        async with simulated_sms(
            resources.store, resources.http, api_url, seed.tenant_id, provider, report_delay=0.1
        ) as account:
            stop, ready = asyncio.Event(), asyncio.Event()

            async def started() -> None:
                ready.set()

            server = asyncio.create_task(
                serve(resources, api=True, worker=True, ready=started, stop=stop, access_log=False)
            )
            headers = {"Authorization": f"Bearer {seed.api_key}"}
            try:
                await asyncio.wait_for(ready.wait(), timeout=60)
                async with httpx.AsyncClient(base_url=api_url, headers=headers) as api:
                    template = "SMS_1" if provider == "aliyun" else "1001"
                    created = await _gql(
                        api,
                        CREATE,
                        {"input": {"name": "SMS welcome", "definition": sms_journey(template)}},
                    )
                    journey_id = created["createJourney"]["id"]
                    published = await _gql(api, PUBLISH, {"id": journey_id})
                    assert published["publishJourney"]["__typename"] == "Journey"
                    signup = {
                        "id": "signup-1",
                        "type": "signup.completed",
                        "identity": {"phone": PHONE},
                        "timestamp": "2026-03-01T10:00:00+08:00",
                        "properties": {},
                    }
                    posted = await api.post("/v1/events", json={"events": [signup]})
                    assert posted.status_code == 202, posted.text

                    node: dict[str, Any] = {}
                    for _ in range(300):
                        data = await _gql(api, ENROLLMENTS, {"journeyId": journey_id})
                        nodes = data["enrollments"]["nodes"]
                        if nodes and nodes[0]["status"] != "ACTIVE":
                            node = nodes[0]
                            break
                        await asyncio.sleep(0.1)
                    assert (node.get("status"), node.get("exitReason")) == ("EXITED", "delivered")
                    [sms] = account.sim.sent
                    assert (sms.phone, sms.template) == (PHONE, template)
                    [delivery] = node["deliveries"]["nodes"]
                    assert delivery == {
                        "channel": "sms",
                        "action": "send",
                        "status": "succeeded",
                        "externalId": sms.message_id,
                    }
            finally:
                stop.set()
                await server
