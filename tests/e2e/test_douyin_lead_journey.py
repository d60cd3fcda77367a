"""A Douyin lead end to end through the public API: the runtime's own wiring (API and workers
over the real dev server and MongoDB). An admin connects Douyin and publishes a journey entered
by `lead.created`; Douyin pushes a signed lead to the URL it was given; the customer walks the
journey (a sandbox message) with the lead's ad recorded as their first-touch hook."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from runtime.processes import free_port
from runtime.resources import open_resources
from runtime.serve import serve
from runtime.settings import Settings
from store.secretbox import encode_key, generate_key
from tests.api.sources import DOUYIN_SECRET, douyin_clue, douyin_headers
from tests.api.support import make_tenant

LEAD_JOURNEY = {
    "nodes": [
        {
            "kind": "entry",
            "id": "start",
            "trigger": {
                "type": "event",
                "event_type": "lead.created",
                "where": [{"path": "attribution.platform", "op": "eq", "value": "douyin"}],
            },
        },
        {
            "kind": "action",
            "id": "greet",
            "channel": "sandbox",
            "action": "send_message",
            "params": {"text": "您好, 感谢留资!"},
            "respect_quiet_hours": False,
        },
        {"kind": "exit", "id": "done", "reason": "greeted"},
    ],
    "edges": [
        {"source": "start", "target": "greet"},
        {"source": "greet", "target": "done"},
    ],
    "settings": {"timezone": "Asia/Shanghai"},
}
CONNECT = """
mutation($input: DouyinLeadSourceInput!) {
  setDouyinLeadSource(input: $input) { __typename ... on SourceSettings { path } }
}
"""
CREATE = """
mutation($input: CreateJourneyInput!) { createJourney(input: $input) { __typename ... on Journey { id } } }
"""
PUBLISH = "mutation($id: ID!) { publishJourney(id: $id) { __typename } }"
ENROLLMENTS = """
query($journeyId: ID!) {
  enrollments(filter: {journeyId: $journeyId}, first: 5) {
    nodes {
      status path exitReason
      customer { firstTouchHook identities { kind value } }
      deliveries(first: 5) { nodes { nodeId channel action status } }
    }
  }
}
"""


@dataclass
class Stack:
    api: httpx.AsyncClient

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.api.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
async def stack(
    mongo_uri: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    settings = Settings(
        mongodb_database=mongo_db.name,
        api_port=free_port(),
        data_dir=tmp_path,
        secrets_keys=SecretStr(json.dumps({"e2e": encode_key(generate_key())})),
    )
    address = temporal_env.client.service_client.config.target_host
    async with open_resources(settings, mongo_uri, address) as resources:
        tenant = await make_tenant(resources.store, "leads")
        stop, ready = asyncio.Event(), asyncio.Event()

        async def started() -> None:
            ready.set()

        server = asyncio.create_task(
            serve(resources, api=True, worker=True, ready=started, stop=stop, access_log=False)
        )
        try:
            await asyncio.wait_for(ready.wait(), timeout=60)
            async with httpx.AsyncClient(
                base_url=settings.local_base_url, headers=tenant.auth("admin")
            ) as api:
                yield Stack(api)
        finally:
            stop.set()
            await server


async def test_a_douyin_lead_enters_a_published_journey_with_its_ad_as_the_first_touch(
    stack: Stack,
) -> None:
    connected = await stack.gql(CONNECT, {"input": {"clientSecret": DOUYIN_SECRET}})
    path = connected["setDouyinLeadSource"]["path"]
    created = await stack.gql(
        CREATE, {"input": {"name": "Douyin leads", "definition": LEAD_JOURNEY}}
    )
    journey_id = created["createJourney"]["id"]
    assert (await stack.gql(PUBLISH, {"id": journey_id}))["publishJourney"]["__typename"] == (
        "Journey"
    )

    lead = douyin_clue(phone="+86 138 0013 8000")
    pushed = await stack.api.post(path, content=lead, headers=douyin_headers(lead))
    assert pushed.status_code == 200, pushed.text
    assert pushed.json() == {"code": 0, "message": "success"}

    enrollment: dict[str, Any] = {}
    for _ in range(240):
        found = (await stack.gql(ENROLLMENTS, {"journeyId": journey_id}))["enrollments"]["nodes"]
        if found and found[0]["status"] != "ACTIVE":
            enrollment = found[0]
            break
        await asyncio.sleep(0.25)
    assert enrollment, "the lead never finished the journey"
    assert enrollment["path"] == ["start", "greet", "done"]
    assert enrollment["exitReason"] == "greeted"
    assert enrollment["deliveries"]["nodes"] == [
        {"nodeId": "greet", "channel": "sandbox", "action": "send_message", "status": "succeeded"}
    ]
    customer = enrollment["customer"]
    assert customer["identities"] == [{"kind": "phone", "value": "13800138000"}]
    assert customer["firstTouchHook"] == "douyin:1781234567"
