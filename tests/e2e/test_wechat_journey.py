"""An Official Account journey end to end on the runtime's own wiring (API, workers, simulated
apps) over the real dev server and MongoDB, driven only through public interfaces.

A user follows through a parametric QR (an encrypted push to our URL); `oa.followed` enters a
journey published through GraphQL; its template message reaches the simulated OA; WeChat's
`TEMPLATESENDJOBFINISH` push comes back as `oa.template_delivered`, which the journey waits for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
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
from runtime.seed import seed_demo
from runtime.serve import serve
from runtime.settings import Settings
from runtime.simulated_wechat import SimulatedWeChat, simulated_wechat
from store.secretbox import encode_key, generate_key
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY

SCENE = "spring-poster"
JOURNEY = {
    "nodes": [
        {
            "kind": "entry",
            "id": "start",
            "trigger": {
                "type": "event",
                "event_type": "oa.followed",
                "where": [{"path": "scene", "op": "eq", "value": SCENE}],
            },
        },
        {
            "kind": "action",
            "id": "shipped_notice",
            "channel": "oa",
            "action": "template_message",
            "params": {
                "template_id": "order-shipped",
                "data": {
                    "thing1": "Thanks for following",
                    "character_string2": "{{ event.properties.scene }}",
                    "time3": "2026-12-07 10:00",
                },
                "url": "https://shop.example/orders",
            },
            "respect_quiet_hours": False,
        },
        {
            "kind": "wait_for_event",
            "id": "await_receipt",
            "event_type": "oa.template_delivered",
            "timeout": "PT5M",
        },
        {"kind": "exit", "id": "delivered", "reason": "delivered"},
        {"kind": "exit", "id": "no_receipt", "reason": "no_receipt"},
    ],
    "edges": [
        {"source": "start", "target": "shipped_notice"},
        {"source": "shipped_notice", "target": "await_receipt"},
        {"source": "await_receipt", "target": "delivered", "label": "matched"},
        {"source": "await_receipt", "target": "no_receipt", "label": "timed_out"},
    ],
    "settings": {"timezone": "Asia/Shanghai"},
}
ENROLLMENTS = """
query($journeyId: ID!) {
  enrollments(filter: {journeyId: $journeyId}, first: 5) {
    nodes {
      status currentNode path
      customer { identities { kind value } firstTouchHook }
      deliveries(first: 5) { nodes { nodeId channel action status externalId } }
    }
  }
}
"""


@dataclass
class Stack:
    wechat: SimulatedWeChat
    api: httpx.AsyncClient

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def until(
        self,
        journey_id: str,
        holds: Callable[[dict[str, Any]], bool],
        what: str,
        tick: Callable[[], Awaitable[Any]] | None = None,
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for _ in range(240):
            if tick is not None:
                await tick()
            nodes = (await self.gql(ENROLLMENTS, {"journeyId": journey_id}))["enrollments"]["nodes"]
            if nodes and holds(nodes[0]):
                return dict(nodes[0])
            found = nodes[0] if nodes else {}
            await asyncio.sleep(0.25)
        raise AssertionError(f"never {what}: {found}")


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
        seed = await seed_demo(resources.store, tmp_path)
        api_url = settings.local_base_url
        async with simulated_wechat(resources.store, resources.http, api_url, seed.tenant_id) as wx:
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
                    yield Stack(wx, api)
            finally:
                stop.set()
                await server


async def test_a_follow_by_scene_gets_a_template_message_whose_receipt_ends_the_journey(
    stack: Stack,
) -> None:
    created = await stack.gql(
        CREATE_JOURNEY, {"input": {"name": "OA follow", "definition": JOURNEY}}
    )
    journey_id = created["createJourney"]["id"]
    published = await stack.gql(PUBLISH_JOURNEY, {"id": journey_id})
    assert published["publishJourney"]["__typename"] == "Journey", published
    oa = stack.wechat.oa
    assert (await oa.driver.verify_url()).status_code == 200

    openid, answer = await oa.driver.follow(scene=SCENE)
    assert answer.status_code == 200 and answer.text == "success"
    waiting = await stack.until(
        journey_id, lambda e: e["currentNode"] == "await_receipt", "sent the template message"
    )
    [sent] = oa.sim.sent
    assert sent.path == "message/template/send" and sent.body["touser"] == openid
    assert sent.body["data"]["thing1"] == {"value": "Thanks for following"}
    assert sent.body["data"]["character_string2"] == {"value": SCENE}  # from the trigger
    [delivery] = waiting["deliveries"]["nodes"]
    assert delivery == {
        "nodeId": "shipped_notice",
        "channel": "oa",
        "action": "template_message",
        "status": "succeeded",
        "externalId": str(sent.msgid),
    }
    assert {"kind": "wechat_openid", "value": openid} in waiting["customer"]["identities"]

    finished = await stack.until(
        journey_id,
        lambda e: e["status"] == "EXITED",
        "received the delivery receipt",
        tick=oa.driver.finish_template_jobs,
    )
    assert finished["path"] == ["start", "shipped_notice", "await_receipt", "delivered"]
