"""The canonical journey template: one shape, two time scales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.clock import next_local_time
from domain.conditions import IdentityCondition, LastEventCondition, PropertyCondition
from domain.journey import (
    ActionNode,
    BranchNode,
    EntryNode,
    HookTrigger,
    JourneyDefinition,
    LocalTime,
    QuietHours,
    WaitForEventNode,
    WaitNode,
)
from domain.templates import (
    DEMO_RESULT_WAIT,
    RESULT_WAIT,
    TEMPLATES,
    canonical_journey,
    lead_journey,
)

REAL = canonical_journey("real")
DEMO = canonical_journey("demo")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _shape(
    definition: JourneyDefinition,
) -> tuple[list[tuple[str, str]], set[tuple[str, str, str]]]:
    nodes: list[tuple[str, str]] = [(node.id, node.kind) for node in definition.nodes]
    edges = {(edge.source, edge.label, edge.target) for edge in definition.edges}
    return nodes, edges


def _timing(definition: JourneyDefinition) -> dict[str, timedelta]:
    return {
        node.id: node.duration if isinstance(node, WaitNode) else node.timeout
        for node in definition.nodes
        if isinstance(node, WaitNode | WaitForEventNode)
    }


def test_real_and_demo_scales_have_the_same_nodes_kinds_and_edges() -> None:
    assert _shape(REAL) == _shape(DEMO)
    assert len(REAL.edges) == len(DEMO.edges)


def test_the_scales_differ_only_in_timing_and_quiet_hours() -> None:
    def without_timing(definition: JourneyDefinition) -> JourneyDefinition:
        nodes = [
            node.model_copy(update={"duration": timedelta(0), "until": None})
            if isinstance(node, WaitNode)
            else node.model_copy(update={"timeout": timedelta(0)})
            if isinstance(node, WaitForEventNode)
            else node
            for node in definition.nodes
        ]
        settings = definition.settings.model_copy(update={"quiet_hours": None})
        return definition.model_copy(update={"nodes": nodes, "settings": settings})

    assert without_timing(REAL) == without_timing(DEMO)


def test_real_scale_uses_the_real_durations() -> None:
    day = timedelta(days=1)
    timing = _timing(REAL)
    assert timing["wait_30m"] == timedelta(minutes=30)
    assert timing["wait_group_join"] == 2 * day
    assert timing["wait_group_join_again"] == 3 * day
    assert timing["wait_21d"] == 21 * day
    assert timing["wait_repurchase"] == 14 * day


def test_demo_scale_turns_each_real_day_into_two_seconds_and_never_less_than_one() -> None:
    for node_id, real in _timing(REAL).items():
        if node_id == "wait_coupon_result":
            continue  # the result wait has its own demo length (below)
        demo = _timing(DEMO)[node_id]
        expected = max(1, round(real / timedelta(days=1) * 2))
        assert demo == timedelta(seconds=expected), node_id
    assert _timing(DEMO)["wait_21d"] == timedelta(seconds=42)
    assert _timing(DEMO)["wait_30m"] == timedelta(seconds=1)


def test_the_coupon_waits_hours_for_its_task_result_and_the_demo_long_enough_to_confirm() -> None:
    assert _timing(REAL)["wait_coupon_result"] == RESULT_WAIT == timedelta(hours=4)
    assert _timing(DEMO)["wait_coupon_result"] == DEMO_RESULT_WAIT
    confirm_time = timedelta(seconds=5)  # the demo's staff confirm tasks every few seconds
    assert confirm_time <= DEMO_RESULT_WAIT


def test_only_real_scale_has_local_send_times_and_quiet_hours() -> None:
    real_untils = {n.id: n.until for n in REAL.nodes if isinstance(n, WaitNode) and n.until}
    assert real_untils == {
        "wait_day1": LocalTime(hour=10),
        "wait_day3": LocalTime(hour=10),
        "wait_day7": LocalTime(hour=10),
    }
    assert REAL.settings.quiet_hours == QuietHours(start=21, end=9)
    assert not any(isinstance(n, WaitNode) and n.until for n in DEMO.nodes)
    assert DEMO.settings.quiet_hours is None


def test_onboarding_touches_land_at_ten_on_days_one_three_and_seven() -> None:
    joined = datetime(2026, 3, 2, 20, 30, tzinfo=SHANGHAI)
    at = joined
    landed = []
    for node_id in ("wait_day1", "wait_day3", "wait_day7"):
        wait = REAL.node(node_id)
        assert isinstance(wait, WaitNode) and wait.until is not None
        due = next_local_time(at + wait.duration, wait.until, REAL.settings.timezone)
        landed.append(due.astimezone(SHANGHAI))
        at = due + timedelta(minutes=5)  # the touch itself takes a while
        if node_id == "wait_day3":
            at += RESULT_WAIT  # the coupon's task result never came: the longest way to day 7
    assert [(d.day, d.hour, d.minute) for d in landed] == [(3, 10, 0), (5, 10, 0), (9, 10, 0)]
    assert landed[0].astimezone(UTC) == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def test_entry_goal_and_exit_trigger_follow_the_canonical_journey() -> None:
    for definition in (REAL, DEMO):
        entry = definition.entry
        assert isinstance(entry, EntryNode)
        assert entry.trigger == HookTrigger(
            hook="douyin-ad-spring", event_type="wecom.contact_added"
        )
        assert [(g.id, g.event_type) for g in definition.goals] == [("first_order", "order.paid")]
        assert definition.target("first_order", "next") == "tag_customer"
        assert [(t.event_type, t.reason) for t in definition.settings.exit_triggers] == [
            ("wecom.contact_deleted_by_customer", "deleted")
        ]
        assert definition.listened_event_types() == {
            "wecom.group_joined",
            "wecom.mass_message.result",
            "order.paid",
            "wecom.contact_deleted_by_customer",
            "wecom.contact_deleted_by_staff",  # the default exit when staff delete the contact
        }


def test_the_hook_and_the_group_settings_are_parameters() -> None:
    custom = canonical_journey(
        "demo", "xhs-note-may", group_code_url="https://brand.example/g", group_owner="lisi"
    )
    assert custom.entry.trigger == HookTrigger(hook="xhs-note-may")
    welcome = custom.node("welcome")
    assert isinstance(welcome, ActionNode)
    assert welcome.params["attachments"][0]["url"] == "https://brand.example/g"
    group = custom.node("group_day1")
    assert isinstance(group, ActionNode) and group.params["sender"] == "lisi"


def test_the_repurchase_loop_returns_to_the_21_day_wait_and_lapses_by_sms() -> None:
    assert REAL.target("wait_repurchase", "matched") == "tag_repeat"
    assert REAL.target("tag_repeat", "next") == "wait_21d"
    assert REAL.target("wait_repurchase", "timed_out") == "winback_sms"
    winback = REAL.node("winback_sms")
    assert isinstance(winback, ActionNode) and (winback.channel, winback.action) == ("sms", "send")
    assert winback.params == {"template": "SMS_WINBACK", "template_params": {"code": "BACK20"}}
    assert REAL.target("winback_sms", "next") == "exit_lapsed"


def test_every_step_is_a_real_channel_action() -> None:
    actions = {node.id: node for node in REAL.nodes if isinstance(node, ActionNode)}
    assert {node_id: (a.channel, a.action) for node_id, a in actions.items()} == {
        "welcome": ("wecom", "welcome"),
        "send_group_code": ("wecom", "mass_message"),
        "remind_group_join": ("wecom", "mass_message"),
        "group_day1": ("wecom", "group_message"),
        "coupon_day3": ("wecom", "mass_message"),
        "coupon_day3_sms": ("sms", "send"),
        "member_day_day7": ("oa", "template_message"),
        "replenish": ("wecom", "mass_message"),
        "winback_sms": ("sms", "send"),
    }
    for action in actions.values():
        if action.channel == "wecom":
            assert 1 <= len(action.params["text"]) <= 2000
    assert [a.id for a in actions.values() if not a.respect_quiet_hours] == ["welcome"]
    for node_id in ("welcome", "send_group_code", "remind_group_join"):
        link = actions[node_id].params["attachments"][0]
        assert link["msgtype"] == "link" and link["url"].startswith("https://")


def test_only_official_account_followers_get_the_member_day_reminder() -> None:
    branch = REAL.node("follows_oa")
    assert isinstance(branch, BranchNode)
    assert branch.rules[0].conditions == [IdentityCondition(identity="wechat_openid")]
    assert REAL.target("wait_day7", "next") == "follows_oa"
    assert REAL.target("follows_oa", "follower") == "member_day_day7"
    assert REAL.target("follows_oa", "else") == "exit_not_converted"
    reminder = REAL.node("member_day_day7")
    assert isinstance(reminder, ActionNode) and reminder.params["template_id"] == "member-day"
    assert set(reminder.params["data"]) == {"thing1", "time2"}


def test_the_coupon_follows_its_task_result_and_falls_back_to_sms() -> None:
    wait = REAL.node("wait_coupon_result")
    assert isinstance(wait, WaitForEventNode)
    assert wait.event_type == "wecom.mass_message.result"
    assert wait.where == [PropertyCondition(path="node_id", value="coupon_day3")]
    branch = REAL.node("coupon_delivered")
    assert isinstance(branch, BranchNode)
    assert branch.rules[0].conditions == [
        LastEventCondition(where=PropertyCondition(path="status", value="sent"))
    ]
    assert REAL.target("coupon_day3", "next") == "wait_coupon_result"
    assert REAL.target("wait_coupon_result", "matched") == "coupon_delivered"
    assert REAL.target("wait_coupon_result", "timed_out") == "coupon_day3_sms"
    assert REAL.target("coupon_delivered", "sent") == "wait_day7"
    assert REAL.target("coupon_delivered", "else") == "coupon_day3_sms"
    assert REAL.target("coupon_day3_sms", "next") == "wait_day7"


def test_the_template_registry_builds_both_scales() -> None:
    assert list(TEMPLATES) == [
        "douyin-wecom-repurchase",
        "douyin-wecom-repurchase-demo",
        "douyin-lead-wecom",
        "douyin-lead-wecom-demo",
    ]
    assert TEMPLATES["douyin-wecom-repurchase"].build() == REAL
    assert TEMPLATES["douyin-wecom-repurchase-demo"].build() == DEMO
    assert TEMPLATES["douyin-lead-wecom"].build() == lead_journey("real")
    assert TEMPLATES["douyin-lead-wecom-demo"].build() == lead_journey("demo")
    for key, template in TEMPLATES.items():
        assert template.key == key and template.title and template.description


LEAD = lead_journey("real")


def test_the_lead_journey_invites_by_sms_and_waits_for_the_wecom_add() -> None:
    assert LEAD.entry.trigger.model_dump() == {
        "type": "event",
        "event_type": "lead.created",
        "where": [],
    }
    invite = LEAD.node("sms_invite")
    assert isinstance(invite, ActionNode) and (invite.channel, invite.action) == ("sms", "send")
    assert invite.params["template_params"]["link"].startswith("https://work.weixin.qq.com/")
    assert "event.properties.name" in invite.params["template_params"]["name"]
    assert LEAD.target("sms_invite", "next") == "wait_add"
    wait = LEAD.node("wait_add")
    assert isinstance(wait, WaitForEventNode) and wait.event_type == "wecom.contact_added"
    assert LEAD.target("wait_add", "matched") == "welcome"
    assert LEAD.target("wait_add", "timed_out") == "sms_reminder"
    assert LEAD.target("wait_add_again", "matched") == "welcome"
    assert LEAD.target("wait_add_again", "timed_out") == "exit_never_added"
    welcome = LEAD.node("welcome")
    assert isinstance(welcome, ActionNode) and welcome.channel == "wecom"
    assert not welcome.respect_quiet_hours  # the welcome code lives 20 seconds
    assert {node.id for node in LEAD.goals} == {"first_order"}
    assert LEAD.target("wait_repurchase", "timed_out") == "winback_sms"


def test_the_lead_journey_has_the_same_shape_in_both_scales() -> None:
    assert _shape(lead_journey("demo")) == _shape(LEAD)
