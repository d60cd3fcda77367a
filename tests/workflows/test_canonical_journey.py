"""The canonical journey with its real durations (days, weeks) on the time-skipping test server.

One long-timer workflow at a time: the time-skipping server is reliable that way. The WeCom steps
run against the simulators: the welcome uses the welcome code it minted for the add event, and the
touches become mass-message tasks nobody confirms, so the coupon's result wait times out into
the SMS fallback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from temporalio.testing import WorkflowEnvironment

from domain.engine import EventRef
from domain.templates import canonical_journey
from tests.workflows.harness import WECOM_STAFF, bench

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13800138000"


def event(type_: str, event_id: str, **properties: Any) -> EventRef:
    return EventRef(id=event_id, type=type_, properties=properties, occurred_at=datetime.now(UTC))


def until_local_noon(now: datetime) -> timedelta:
    """How long from `now` to the next 12:00 in Shanghai (so the test's days never depend on
    the hour it runs at)."""
    local = now.astimezone(SHANGHAI)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= local:
        noon += timedelta(days=1)
    return noon - local


async def test_canonical_journey_runs_for_months_from_hook_to_lapsed_repeat_buyer(
    mongo_db: AsyncDatabase[Any], time_skipping_env: WorkflowEnvironment
) -> None:
    env = time_skipping_env
    async with bench(mongo_db, env.client) as jb:
        journey_id, version = await jb.publish(canonical_journey("real"), "Douyin ad → repurchase")
        await env.sleep(until_local_noon(await env.get_current_time()))
        arrival = await jb.wecom_customer("douyin-ad-spring", "add-1")
        customer_id, external_userid = arrival.customer_id, arrival.external_userid
        # The phone the staff member recorded on the contact: where the SMS steps go.
        await jb.store.customers.resolve(
            jb.tenant_id,
            {"wecom_external_userid": external_userid, "phone": PHONE},
            datetime.now(UTC),
        )
        enrollment_id = await jb.enroll(
            journey_id, version, customer_id, entry_event=arrival.event, reentry="after_exit"
        )

        await env.sleep(timedelta(hours=1))
        waiting = await jb.projection(enrollment_id)
        assert waiting.current_node == "wait_group_join"
        await jb.event(enrollment_id, event("wecom.group_joined", "join-1"))

        # day 1 10:00 group message, day 3 10:00 coupon task, 14:00 its result wait times out
        await env.sleep(timedelta(days=3, hours=3))
        await jb.event(enrollment_id, event("order.paid", "order-1", total=98))
        await env.sleep(timedelta(hours=1))
        converted = await jb.projection(enrollment_id)
        assert converted.goal_id == "first_order" and converted.current_node == "wait_21d"

        await env.sleep(timedelta(days=22))
        await jb.event(enrollment_id, event("order.paid", "order-2", total=104))
        # handles not returned by start_workflow do not skip time: sleep through the rest
        await env.sleep(timedelta(days=40))
        result = await jb.result(enrollment_id)
        sim = jb.sim

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
    coupon = path.index("coupon_day3")
    assert path[coupon : coupon + 4] == [
        "coupon_day3",
        "wait_coupon_result",
        "coupon_day3_sms",
        "wait_day7",
    ]
    assert path.count("replenish") == 2 and path[-3:] == ["winback_sms", "exit_lapsed", None]
    assert "first_order" in path and "tag_repeat" in path
    deliveries = await jb.deliveries(enrollment_id)
    assert [(d.node_id, d.channel, d.action, d.status) for d in deliveries] == [
        ("welcome", "wecom", "welcome", "succeeded"),
        ("send_group_code", "wecom", "mass_message", "succeeded"),
        ("group_day1", "wecom", "group_message", "succeeded"),
        ("coupon_day3", "wecom", "mass_message", "succeeded"),
        ("coupon_day3_sms", "sms", "send", "succeeded"),
        ("replenish", "wecom", "mass_message", "succeeded"),
        ("replenish", "wecom", "mass_message", "succeeded"),
        ("winback_sms", "sms", "send", "succeeded"),
    ]
    assert [(m.phone, m.template, m.params) for m in jb.sms.sent] == [
        (PHONE, "SMS_COUPON_DAY3", {"url": "https://shop.example/c/day3"}),
        (PHONE, "SMS_WINBACK", {"code": "BACK20"}),
    ]
    assert [(w["external_userid"], w["userid"]) for w in sim.welcomes] == [
        (external_userid, WECOM_STAFF)
    ]
    assert sim.welcomes[0]["attachments"][0]["link"]["url"].startswith("https://")
    tasks = [d.external_id or "" for d in deliveries if d.action == "mass_message"]
    assert all(sim.msg_tasks[msgid]["sender"] == WECOM_STAFF for msgid in tasks)
    assert all(
        [row["external_userid"] for row in sim.msg_tasks[msgid]["results"]] == [external_userid]
        for msgid in tasks
    )
    actions = {"group_day1", "coupon_day3", "coupon_day3_sms", "replenish", "winback_sms"}
    for transition in transitions:
        if transition.to_node in actions:
            local_hour = transition.at.astimezone(SHANGHAI).hour
            assert 9 <= local_hour < 21, f"{transition.to_node} ran at {local_hour}h local"
    journey_days = (transitions[-1].at - transitions[0].at).days
    assert journey_days >= 60
    customer = await jb.store.customers.get(jb.tenant_id, customer_id)
    assert {"source:douyin", "stage:repeat"} <= set(customer.tags)
