"""Journey templates designers start from, led by the canonical private-domain journey.

"Douyin ad → WeCom → group → repurchase" (ARCHITECTURE.md, "The canonical journey, concretely"):
a customer scans the ad's WeCom channel code, is welcomed and tagged, gets the group live code,
is reminded once if they do not join, is onboarded in the group on days 1, 3 and 7, and once they
buy enters a repurchase loop that lasts as long as they keep buying. Deleting the staff contact
ends the enrollment anywhere.

The template exists in two time scales with the same node ids, kinds and edges: `real`
(minutes and days, waits landing at 10:00 local, quiet hours 21:00-09:00) and `demo` (each real
day is two seconds, no local times or quiet hours) so the whole journey can be watched live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Literal

from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    ExitNode,
    ExitTrigger,
    GoalNode,
    HookTrigger,
    JourneyDefinition,
    JourneySettings,
    LocalTime,
    Node,
    QuietHours,
    ReentryPolicy,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)

Scale = Literal["real", "demo"]

DEMO_SECONDS_PER_DAY = 2
"""In the demo scale one real day lasts two seconds (never less than one second per wait)."""

SEND_HOUR = 10
"""Onboarding touches land at 10:00 local time, well outside the 21:00-09:00 quiet hours."""


def _duration(real: timedelta, scale: Scale) -> timedelta:
    if scale == "real":
        return real
    seconds = real / timedelta(days=1) * DEMO_SECONDS_PER_DAY
    return timedelta(seconds=max(1, round(seconds)))


def _send(node_id: str, text: str, to: str, name: str, *, urgent: bool = False) -> ActionNode:
    return ActionNode(
        id=node_id,
        name=name,
        channel="sandbox",
        action="send_message",
        params={"text": text, "to": to},
        respect_quiet_hours=not urgent,
    )


def canonical_journey(scale: Scale = "real") -> JourneyDefinition:
    """The canonical "Douyin ad → WeCom → group → repurchase" journey in the given time scale."""

    def wait(node_id: str, real: timedelta, name: str, *, at_send_hour: bool = False) -> WaitNode:
        until = LocalTime(hour=SEND_HOUR) if at_send_hour and scale == "real" else None
        return WaitNode(id=node_id, name=name, duration=_duration(real, scale), until=until)

    def wait_for(node_id: str, event_type: str, real: timedelta, name: str) -> WaitForEventNode:
        return WaitForEventNode(
            id=node_id, name=name, event_type=event_type, timeout=_duration(real, scale)
        )

    day = timedelta(days=1)
    # Onboarding waits last N - 1/2 days before "until 10:00": they land on the intended calendar
    # day even when the previous touch ran hours late (a wait of exactly N days would skip a day
    # as soon as the previous send finished a second after 10:00).
    nodes: list[Node] = [
        EntryNode(
            id="entry",
            name="Scanned the Douyin ad's WeCom code",
            trigger=HookTrigger(hook="douyin-ad-spring"),
            reentry=ReentryPolicy(mode="after_exit"),
        ),
        _send(
            "welcome",
            "Welcome! Here is your first-order coupon: https://shop.example/c/first-order",
            "contact",
            "Welcome with first-order coupon",
            urgent=True,  # the welcome must go out inside WeCom's 20-second window
        ),
        UpdateProfileNode(
            id="tag_lead", name="Tag as Douyin lead", add_tags=["source:douyin", "stage:lead"]
        ),
        wait("wait_30m", timedelta(minutes=30), "Wait 30 minutes"),
        _send(
            "send_group_code",
            "Join our member group for daily deals: https://shop.example/g/live-code",
            "contact",
            "Send the group live code",
        ),
        wait_for("wait_group_join", "wecom.group_joined", 2 * day, "Joined the group? (2 days)"),
        _send(
            "remind_group_join",
            "Members get a coupon every week - tap to join the group: https://shop.example/g/live-code",
            "contact",
            "Group reminder (mass-message task)",
        ),
        wait_for(
            "wait_group_join_again", "wecom.group_joined", 3 * day, "Joined the group? (3 days)"
        ),
        ExitNode(id="exit_not_onboarded", name="Never joined the group", reason="not_onboarded"),
        wait("wait_day1", day / 2, "Until 10:00 on day 1", at_send_hour=True),
        _send(
            "group_day1",
            "Welcome to the group! Today's pick is in the group notice.",
            "group",
            "Group message, day 1",
        ),
        wait("wait_day3", 1.5 * day, "Until 10:00 on day 3", at_send_hour=True),
        _send(
            "coupon_day3",
            "Your 3-day member coupon is ready: https://shop.example/c/day3",
            "contact",
            "Coupon, day 3",
        ),
        wait("wait_day7", 3.5 * day, "Until 10:00 on day 7", at_send_hour=True),
        _send(
            "member_day_day7",
            "Member day is tomorrow: double points on every order.",
            "oa",
            "Member-day reminder, day 7",
        ),
        ExitNode(id="exit_not_converted", name="Onboarded, no order", reason="not_converted"),
        GoalNode(id="first_order", name="First order paid", event_type="order.paid"),
        UpdateProfileNode(
            id="tag_customer",
            name="Tag as customer",
            add_tags=["stage:customer"],
            remove_tags=["stage:lead"],
        ),
        wait("wait_21d", 21 * day, "Wait 21 days"),
        _send(
            "replenish",
            "Running low? Restock today with free delivery: https://shop.example/c/restock",
            "contact",
            "Replenishment touch",
        ),
        wait_for("wait_repurchase", "order.paid", 14 * day, "Bought again? (14 days)"),
        UpdateProfileNode(
            id="tag_repeat",
            name="Tag as repeat buyer",
            add_tags=["stage:repeat"],
            remove_tags=["stage:customer"],
        ),
        _send(
            "winback_sms",
            "We miss you: 20% off your next order with code BACK20.",
            "sms",
            "Win-back offer by SMS",
        ),
        ExitNode(id="exit_lapsed", name="Stopped buying", reason="lapsed"),
    ]
    edges = [
        Edge(source=source, target=target, label=label)
        for source, label, target in (
            ("entry", "next", "welcome"),
            ("welcome", "next", "tag_lead"),
            ("tag_lead", "next", "wait_30m"),
            ("wait_30m", "next", "send_group_code"),
            ("send_group_code", "next", "wait_group_join"),
            ("wait_group_join", "matched", "wait_day1"),
            ("wait_group_join", "timed_out", "remind_group_join"),
            ("remind_group_join", "next", "wait_group_join_again"),
            ("wait_group_join_again", "matched", "wait_day1"),
            ("wait_group_join_again", "timed_out", "exit_not_onboarded"),
            ("wait_day1", "next", "group_day1"),
            ("group_day1", "next", "wait_day3"),
            ("wait_day3", "next", "coupon_day3"),
            ("coupon_day3", "next", "wait_day7"),
            ("wait_day7", "next", "member_day_day7"),
            ("member_day_day7", "next", "exit_not_converted"),
            ("first_order", "next", "tag_customer"),
            ("tag_customer", "next", "wait_21d"),
            ("wait_21d", "next", "replenish"),
            ("replenish", "next", "wait_repurchase"),
            ("wait_repurchase", "matched", "tag_repeat"),
            ("wait_repurchase", "timed_out", "winback_sms"),
            ("tag_repeat", "next", "wait_21d"),
            ("winback_sms", "next", "exit_lapsed"),
        )
    ]
    settings = JourneySettings(
        timezone="Asia/Shanghai",
        quiet_hours=QuietHours(start=21, end=9) if scale == "real" else None,
        exit_triggers=[
            ExitTrigger(event_type="wecom.contact_deleted_by_customer", reason="deleted")
        ],
    )
    return JourneyDefinition(nodes=nodes, edges=edges, settings=settings)


@dataclass(frozen=True)
class JourneyTemplate:
    """A journey designers can start from: listed by the API, built on demand."""

    key: str
    title: str
    description: str
    build: Callable[[], JourneyDefinition]


def _canonical_real() -> JourneyDefinition:
    return canonical_journey("real")


def _canonical_demo() -> JourneyDefinition:
    return canonical_journey("demo")


_DESCRIPTION = (
    "Customers who add a WeCom contact through the Douyin ad's channel code are welcomed with a "
    "first-order coupon, invited to the member group (one reminder, then they leave), onboarded "
    "in the group on days 1, 3 and 7, and after their first order enter a repurchase loop: a "
    "replenishment touch every 21 days while they keep buying, an SMS win-back after 14 quiet "
    "days. Deleting the contact ends the journey."
)

TEMPLATES: Mapping[str, JourneyTemplate] = MappingProxyType(
    {
        template.key: template
        for template in (
            JourneyTemplate(
                key="douyin-wecom-repurchase",
                title="Douyin ad → WeCom → group → repurchase",
                description=_DESCRIPTION,
                build=_canonical_real,
            ),
            JourneyTemplate(
                key="douyin-wecom-repurchase-demo",
                title="Douyin ad → WeCom → group → repurchase (demo timing)",
                description=_DESCRIPTION
                + " Demo timing: each day lasts two seconds, with no quiet hours.",
                build=_canonical_demo,
            ),
        )
    }
)
"""Templates by key, in display order."""
