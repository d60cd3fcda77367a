"""The canonical journey end to end on a simulated WeCom corp: the runtime's own wiring (API,
workers, result poller, simulator set-up, demo player) over the real dev server and MongoDB.

Customers scan the Douyin ad's channel code (an encrypted callback), are welcomed within the
window, join the member group through its live code, get their touches as mass-message tasks the
staff confirm, buy, and end converted — and all of it reads back through GraphQL.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from runtime.demo import Actor, DemoPlayer
from runtime.processes import free_port
from runtime.resources import open_resources
from runtime.seed import DEMO_JOURNEY, seed_demo
from runtime.serve import serve
from runtime.settings import Settings
from runtime.simulated_wecom import SimulatedCorp, simulated_wecom
from store.secretbox import encode_key, generate_key

CUSTOMERS = 3
ENROLLMENTS = """
query($journeyId: ID!) {
  enrollments(filter: {journeyId: $journeyId}, first: 20) {
    nodes {
      status currentNode converted goalId path
      customer { tags identities { kind value } }
      deliveries(first: 20) { nodes { nodeId channel action status externalId } }
    }
  }
}
"""


@dataclass
class Stack:
    corp: SimulatedCorp
    player: DemoPlayer
    lines: list[str]

    async def enrollments(self) -> dict[str, dict[str, Any]]:
        """Each demo customer's enrollment, by external userid, as GraphQL shows it."""
        response = await self.player.api.post(
            "/graphql", json={"query": ENROLLMENTS, "variables": {"journeyId": DEMO_JOURNEY}}
        )
        body = response.json()
        assert "errors" not in body, body
        found: dict[str, dict[str, Any]] = {}
        for node in body["data"]["enrollments"]["nodes"]:
            for identity in node["customer"]["identities"]:
                if identity["kind"] == "wecom_external_userid":
                    found[identity["value"]] = node
        return found

    async def until(
        self, what: str, holds: Callable[[dict[str, Any]], bool], tick: Callable[[], Awaitable[Any]]
    ) -> dict[str, dict[str, Any]]:
        """Poll (bounded) until every customer's enrollment satisfies `holds`."""
        found: dict[str, dict[str, Any]] = {}
        for _ in range(240):
            await tick()
            found = await self.enrollments()
            actors = self.player.cast
            if len(found) == len(actors) and all(holds(found[a.external_userid]) for a in actors):
                return found
            await asyncio.sleep(0.25)
        raise AssertionError(f"never {what}: {found}\n" + "\n".join(self.lines))


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
        wecom_result_poll_interval=0.5,
        # The suite may run against a server in MONGODB_URI, where SECRETS_KEYS is required.
        secrets_keys=SecretStr(json.dumps({"e2e": encode_key(generate_key())})),
    )
    address = temporal_env.client.service_client.config.target_host
    async with open_resources(settings, mongo_uri, address) as resources:
        seed = await seed_demo(resources.store, tmp_path)
        api_url = settings.local_base_url
        async with simulated_wecom(
            resources.store, resources.wecom, resources.http, api_url, seed.tenant_id
        ) as corp:
            stop, ready = asyncio.Event(), asyncio.Event()

            async def started() -> None:
                ready.set()

            server = asyncio.create_task(
                serve(
                    resources,
                    api=True,
                    worker=True,
                    ready=started,
                    stop=stop,
                    poll_interval=settings.result_poll_interval(simulated=True),
                    access_log=False,
                )
            )
            headers = {"Authorization": f"Bearer {seed.api_key}"}
            try:
                await asyncio.wait_for(ready.wait(), timeout=60)
                async with httpx.AsyncClient(base_url=api_url, headers=headers) as api:
                    lines: list[str] = []
                    yield Stack(corp, DemoPlayer(corp, api, DEMO_JOURNEY, say=lines.append), lines)
            finally:
                stop.set()
                await server


async def test_customers_go_from_the_douyin_code_to_converted_on_simulated_wecom(
    stack: Stack,
) -> None:
    player, sim = stack.player, stack.corp.sim
    player.cast = [Actor(f"c{n}", []) for n in range(CUSTOMERS)]
    for actor in player.cast:
        await player.scan(actor)

    async def nothing() -> None:
        pass

    await stack.until(
        "invited to the group", lambda e: e["currentNode"] == "wait_group_join", nothing
    )
    for actor in player.cast:
        await player.act(actor, "join")
    # The staff confirm the coupon tasks; the poller reports them sent; the branch follows.
    await stack.until(
        "past the coupon", lambda e: "coupon_delivered" in e["path"], player.confirm_tasks
    )
    for actor in player.cast:
        await player.pay(actor)
    found = await stack.until("converted", lambda e: e["converted"], player.confirm_tasks)

    assert Counter(w["external_userid"] for w in sim.welcomes) == Counter(
        actor.external_userid for actor in player.cast
    )
    for actor in player.cast:
        enrollment = found[actor.external_userid]
        path = enrollment["path"]
        assert path[:6] == [
            "entry",
            "welcome",
            "tag_lead",
            "wait_30m",
            "send_group_code",
            "wait_group_join",
        ]
        joined = path.index("wait_day1")  # the group_joined event ended a join wait
        assert path[joined - 1] in ("wait_group_join", "wait_group_join_again")
        assert path[joined + 1] == "group_day1"
        coupon = path.index("coupon_day3")
        assert path[coupon : coupon + 4] == [
            "coupon_day3",
            "wait_coupon_result",
            "coupon_delivered",
            "wait_day7",  # the `sent` branch: no SMS fallback
        ]
        assert enrollment["goalId"] == "first_order" and "tag_customer" in path
        assert {"source:douyin", "stage:customer"} <= set(enrollment["customer"]["tags"])
        deliveries = enrollment["deliveries"]["nodes"]
        assert [(d["nodeId"], d["channel"], d["action"], d["status"]) for d in deliveries][:4] == [
            ("welcome", "wecom", "welcome", "succeeded"),
            ("send_group_code", "wecom", "mass_message", "succeeded"),
            ("group_day1", "wecom", "group_message", "succeeded"),
            ("coupon_day3", "wecom", "mass_message", "succeeded"),
        ]
        coupon_task = sim.msg_tasks[deliveries[3]["externalId"]]
        assert coupon_task["results"] == [
            {
                "external_userid": actor.external_userid,
                "userid": "zhangsan",
                "status": 1,
                "send_time": coupon_task["results"][0]["send_time"],
            }
        ]
