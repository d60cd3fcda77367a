"""The lead journey end to end on the runtime's own wiring: Douyin clue pushes to the public
source URL, the invitation and reminder SMS on the simulated provider, WeCom adds on the
simulated corp linked to the lead by the phone the staff member records, the welcome, the group,
an order, and every outcome read back through GraphQL (the lead demo player, `runtime.lead_demo`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from runtime.lead_demo import ENROLLMENTS, LeadPlayer
from runtime.processes import free_port
from runtime.resources import open_resources
from runtime.seed import LEAD_DEMO_JOURNEY, seed_demo
from runtime.serve import serve
from runtime.settings import Settings
from runtime.simulated_sms import simulated_sms
from runtime.simulated_wecom import simulated_wecom
from store.secretbox import encode_key, generate_key

EXPECTED = {
    "huang": ("ACTIVE", "wait_21d", True),  # added after the invitation, joined, bought
    "he": ("EXITED", "not_converted", False),  # added after the reminder, never bought
    "luo": ("EXITED", "never_added", False),  # never added
}


async def _outcomes(player: LeadPlayer) -> dict[str, tuple[str, str, bool]]:
    response = await player.api.post(
        "/graphql", json={"query": ENROLLMENTS, "variables": {"journeyId": LEAD_DEMO_JOURNEY}}
    )
    body = response.json()
    assert "errors" not in body, body
    names = {lead.phone: lead.name for lead in player.cast}
    found = {}
    for node in body["data"]["enrollments"]["nodes"]:
        values = [i["value"] for i in node["customer"]["identities"]]
        name = next((names[p] for v in values for p in names if v.endswith(p)), None)
        if name is not None:
            where = node["exitReason"] or node["currentNode"]
            found[name] = (node["status"], where, node["converted"])
    return found


async def test_douyin_leads_are_invited_by_sms_and_welcomed_on_wecom(
    mongo_uri: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    settings = Settings(
        mongodb_database=mongo_db.name,
        api_port=free_port(),
        data_dir=tmp_path,
        wecom_result_poll_interval=0.5,
        secrets_keys=SecretStr(json.dumps({"e2e": encode_key(generate_key())})),
    )
    address = temporal_env.client.service_client.config.target_host
    lines: list[str] = []
    async with open_resources(settings, mongo_uri, address) as resources:
        seed = await seed_demo(resources.store, tmp_path)
        api_url = settings.local_base_url
        async with (
            simulated_wecom(
                resources.store, resources.wecom, resources.http, api_url, seed.tenant_id
            ) as corp,
            simulated_sms(resources.store, resources.http, api_url, seed.tenant_id) as sms,
        ):
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
                    player = LeadPlayer(corp, sms, api, seed.lead_journey_id, say=lines.append)
                    await player.play(seconds=24)
                    outcomes: dict[str, tuple[str, str, bool]] = {}
                    for _ in range(120):
                        outcomes = await _outcomes(player)
                        if outcomes == EXPECTED:
                            break
                        await asyncio.sleep(0.25)
            finally:
                stop.set()
                await server

    assert outcomes == EXPECTED, "\n".join(lines)
    texts = [(s.phone[-11:], s.template) for s in sms.sim.sent]
    assert ("13900000000", "SMS_LEAD_INVITE") in texts
    assert ("13900000001", "SMS_LEAD_REMINDER") in texts
    assert ("13900000002", "SMS_LEAD_REMINDER") in texts
    assert ("13900000000", "SMS_LEAD_REMINDER") not in texts  # added in time
    welcomed = {w["external_userid"] for w in corp.sim.welcomes}
    assert {lead.external_userid for lead in player.cast if lead.external_userid} == welcomed
    assert any("huang is welcomed" in line for line in lines)
