"""On the real Temporal server: the tenant's frequency caps hold across journeys. A capped
`skip` action takes its failed edge with the cap named and nothing sent; a capped `wait` action
is sent once the cap's period ends."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition
from domain.messaging import POLICY_KIND, FrequencyCap, MessagingPolicy
from tests.workflows.harness import Bench, bench
from workflows import client as journeys_client

SHANGHAI = ZoneInfo("Asia/Shanghai")


def one_touch(when_capped: str) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            ActionNode(
                id="touch",
                channel="sandbox",
                action="send_message",
                params={"text": "hi"},
                respect_quiet_hours=False,
                when_capped=when_capped,  # type: ignore[arg-type]
            ),
            ExitNode(id="sent", reason="sent"),
            ExitNode(id="capped", reason="capped"),
        ],
        edges=[
            Edge(source="in", target="touch"),
            Edge(source="touch", target="sent"),
            Edge(source="touch", target="capped", label="failed"),
        ],
    )


async def _policy(jb: Bench, limit: int) -> None:
    policy = MessagingPolicy(
        caps=[FrequencyCap(id="daily", channels=["sandbox"], limit=limit, period="day")]
    )
    await jb.store.channel_settings.put(jb.tenant_id, POLICY_KIND, policy, datetime.now(UTC))


async def test_a_cap_counts_across_journeys_and_a_skip_takes_the_failed_edge(jb: Bench) -> None:
    await _policy(jb, limit=2)
    customer = await jb.customer(external_id="capped")
    results = []
    for index in range(3):
        journey_id, version = await jb.publish(one_touch("skip"), name=f"j{index}")
        enrollment = await jb.enroll(journey_id, version, customer)
        results.append((await jb.result(enrollment), await jb.deliveries(enrollment)))

    reasons = [result.reason for result, _ in results]
    assert reasons == ["sent", "sent", "capped"]
    [skipped] = results[2][1]
    assert skipped.status == "skipped"
    assert "frequency cap daily (2 per day)" in (skipped.error or "")
    assert await jb.store.touch_counters.count(jb.tenant_id, customer, "daily", _today()) == 2


def _today() -> str:
    return f"day:{datetime.now(UTC).astimezone(SHANGHAI).date().isoformat()}"


async def test_a_capped_wait_is_sent_when_the_period_ends(
    mongo_db: AsyncDatabase[Any], temporal_env: WorkflowEnvironment
) -> None:
    # The channel activity's clock stands 3 seconds before a local midnight.
    now = datetime.now(UTC)
    midnight = datetime.combine(
        now.astimezone(SHANGHAI).date() + timedelta(days=1), time(0), tzinfo=SHANGHAI
    )
    shift = midnight - timedelta(seconds=3) - now

    def clock() -> datetime:
        return datetime.now(UTC) + shift

    async with bench(mongo_db, temporal_env.client, clock=clock) as jb:
        await _policy(jb, limit=1)
        customer = await jb.customer(external_id="waits")
        first_id, first_version = await jb.publish(one_touch("skip"), name="first")
        await jb.result(await jb.enroll(first_id, first_version, customer))
        second_id, second_version = await jb.publish(one_touch("wait"), name="second")
        second = await jb.enroll(second_id, second_version, customer)
        held = await jb.until(second, lambda e: e.current_node == "touch")
        result = await jb.result(second)
        [delivery] = await jb.deliveries(second)

    assert held.status == "active"
    assert result.reason == "sent"
    assert delivery.status == "succeeded"
    assert delivery.updated_at + shift >= midnight


async def test_a_held_action_cancelled_takes_no_edge_and_sends_nothing(
    mongo_db: AsyncDatabase[Any], temporal_env: WorkflowEnvironment
) -> None:
    # The activity's clock stands an hour before a local midnight: the cap frees in an hour.
    now = datetime.now(UTC)
    midnight = datetime.combine(
        now.astimezone(SHANGHAI).date() + timedelta(days=1), time(0), tzinfo=SHANGHAI
    )
    shift = midnight - timedelta(hours=1) - now

    def clock() -> datetime:
        return datetime.now(UTC) + shift

    async with bench(mongo_db, temporal_env.client, clock=clock) as jb:
        await _policy(jb, limit=1)
        customer = await jb.customer(external_id="held")
        first_id, first_version = await jb.publish(one_touch("skip"), name="first")
        await jb.result(await jb.enroll(first_id, first_version, customer))
        definition = one_touch("wait")
        second_id, second_version = await jb.publish(definition, name="second")
        second = await jb.enroll(second_id, second_version, customer)
        await jb.until(second, lambda e: e.current_node == "touch")
        await journeys_client.cancel(jb.client, second, "campaign stopped")
        result = await jb.result(second)
        transitions = await jb.transitions(second)
        deliveries = await jb.deliveries(second)

    assert (result.status, result.reason) == ("cancelled", "campaign stopped")
    assert "capped" not in [t.to_node for t in transitions]  # the failed edge was not taken
    assert [d.status for d in deliveries] == ["pending"]  # never sent
