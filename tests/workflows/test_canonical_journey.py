"""The canonical journey with its real durations (days, weeks) on the time-skipping test server.

One long-timer workflow at a time: the time-skipping server is reliable that way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from domain.engine import EventRef
from domain.templates import canonical_journey
from tests.workflows.harness import bench

SHANGHAI = ZoneInfo("Asia/Shanghai")


def event(type_: str, event_id: str, **properties: Any) -> EventRef:
    return EventRef(id=event_id, type=type_, properties=properties, occurred_at=datetime.now(UTC))


async def test_canonical_journey_runs_for_months_from_hook_to_lapsed_repeat_buyer(
    mongo_db: AsyncDatabase[Any], time_skipping_env: WorkflowEnvironment
) -> None:
    env = time_skipping_env
    async with bench(mongo_db, env.client) as jb:
        journey_id, version = await jb.publish(canonical_journey("real"), "Douyin ad → repurchase")
        customer_id = await jb.customer(wecom_external_userid="wm_douyin_1")
        added = event("wecom.contact_added", "add-1", state="douyin-ad-spring")
        enrollment_id = await jb.enroll(
            journey_id, version, customer_id, entry_event=added, reentry="after_exit"
        )

        await env.sleep(timedelta(hours=1))
        waiting = await jb.projection(enrollment_id)
        assert waiting.current_node == "wait_group_join"
        await jb.event(enrollment_id, event("wecom.group_joined", "join-1"))

        await env.sleep(timedelta(days=3))
        await jb.event(enrollment_id, event("order.paid", "order-1", total=98))
        await env.sleep(timedelta(hours=1))
        converted = await jb.projection(enrollment_id)
        assert converted.goal_id == "first_order" and converted.current_node == "wait_21d"

        await env.sleep(timedelta(days=22))
        await jb.event(enrollment_id, event("order.paid", "order-2", total=104))
        # handles not returned by start_workflow do not skip time: sleep through the rest
        await env.sleep(timedelta(days=40))
        result = await jb.result(enrollment_id)

    assert (result.status, result.reason, result.converted) == ("exited", "lapsed", True)
    transitions = await jb.transitions(enrollment_id)
    path = [t.to_node for t in transitions]
    assert path[:6] == [
        "entry",
        "welcome",
        "tag_lead",
        "wait_30m",
        "send_group_code",
        "wait_group_join",
    ]
    assert path.count("replenish") == 2 and path[-3:] == ["winback_sms", "exit_lapsed", None]
    assert "first_order" in path and "tag_repeat" in path
    sent = [d.node_id for d in await jb.deliveries(enrollment_id)]
    assert sent == [
        "welcome",
        "send_group_code",
        "group_day1",
        "coupon_day3",
        "replenish",
        "replenish",
        "winback_sms",
    ]
    actions = {"group_day1", "coupon_day3", "replenish", "winback_sms"}
    for transition in transitions:
        if transition.to_node in actions:
            local_hour = transition.at.astimezone(SHANGHAI).hour
            assert 9 <= local_hour < 21, f"{transition.to_node} ran at {local_hour}h local"
    journey_days = (transitions[-1].at - transitions[0].at).days
    assert journey_days >= 60
    customer = await jb.store.customers.get(jb.tenant_id, customer_id)
    assert {"source:douyin", "stage:repeat"} <= set(customer.tags)
