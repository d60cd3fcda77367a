"""The canonical journey template: one shape, two time scales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.clock import next_local_time
from domain.journey import (
    ActionNode,
    EntryNode,
    HookTrigger,
    JourneyDefinition,
    LocalTime,
    QuietHours,
    WaitForEventNode,
    WaitNode,
)
from domain.templates import TEMPLATES, canonical_journey

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
        demo = _timing(DEMO)[node_id]
        expected = max(1, round(real / timedelta(days=1) * 2))
        assert demo == timedelta(seconds=expected), node_id
    assert _timing(DEMO)["wait_21d"] == timedelta(seconds=42)
    assert _timing(DEMO)["wait_30m"] == timedelta(seconds=1)


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
            "order.paid",
            "wecom.contact_deleted_by_customer",
        }


def test_the_repurchase_loop_returns_to_the_21_day_wait_and_lapses_by_sms() -> None:
    assert REAL.target("wait_repurchase", "matched") == "tag_repeat"
    assert REAL.target("tag_repeat", "next") == "wait_21d"
    assert REAL.target("wait_repurchase", "timed_out") == "winback_sms"
    winback = REAL.node("winback_sms")
    assert isinstance(winback, ActionNode) and winback.params["to"] == "sms"
    assert REAL.target("winback_sms", "next") == "exit_lapsed"


def test_every_touch_is_a_sandbox_message_to_a_known_audience() -> None:
    actions = [node for node in REAL.nodes if isinstance(node, ActionNode)]
    assert len(actions) == 8
    for action in actions:
        assert (action.channel, action.action) == ("sandbox", "send_message")
        assert action.params["to"] in {"contact", "group", "oa", "sms"}
        assert 1 <= len(action.params["text"]) <= 2000


def test_the_template_registry_builds_both_scales() -> None:
    assert list(TEMPLATES) == ["douyin-wecom-repurchase", "douyin-wecom-repurchase-demo"]
    assert TEMPLATES["douyin-wecom-repurchase"].build() == REAL
    assert TEMPLATES["douyin-wecom-repurchase-demo"].build() == DEMO
    for key, template in TEMPLATES.items():
        assert template.key == key and template.title and template.description
