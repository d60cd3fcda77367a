"""What the journey templates are built from: their two time scales and the action nodes of each
channel they use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from domain.events import ORDER_PAID
from domain.journey import (
    ActionNode,
    ExitNode,
    ExitTrigger,
    GoalNode,
    JourneySettings,
    Node,
    QuietHours,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.wecom_events import CONTACT_DELETED_BY_CUSTOMER

Scale = Literal["real", "demo"]

DEMO_SECONDS_PER_DAY = 2
"""In the demo scale one real day lasts two seconds (never less than one second per wait)."""

SEND_HOUR = 10
"""Onboarding touches land at 10:00 local time, well outside the 21:00-09:00 quiet hours."""


def duration(real: timedelta, scale: Scale) -> timedelta:
    """`real` in the given time scale."""
    if scale == "real":
        return real
    seconds = real / timedelta(days=1) * DEMO_SECONDS_PER_DAY
    return timedelta(seconds=max(1, round(seconds)))


def link(title: str, url: str) -> dict[str, Any]:
    """A WeCom link attachment."""
    return {"msgtype": "link", "title": title, "url": url}


def wecom_action(
    node_id: str,
    action: str,
    name: str,
    text: str,
    *,
    attach: tuple[str, str] | None = None,
    urgent: bool = False,
    **extra: Any,
) -> ActionNode:
    """A `wecom` action; `urgent` ones ignore quiet hours (the welcome's 20-second window)."""
    params: dict[str, Any] = {"text": text, **extra}
    if attach is not None:
        params["attachments"] = [link(*attach)]
    return ActionNode(
        id=node_id,
        name=name,
        channel="wecom",
        action=action,
        params=params,
        respect_quiet_hours=not urgent,
    )


def sms_action(node_id: str, title: str, template: str, variables: dict[str, str]) -> ActionNode:
    """An `sms.send` of a template approved at the tenant's provider, with its variables."""
    return ActionNode(
        id=node_id,
        name=title,
        channel="sms",
        action="send",
        params={"template": template, "template_params": dict(variables)},
    )


def oa_action(node_id: str, name: str, template_id: str, url: str, **data: str) -> ActionNode:
    """An Official Account template message (to followers: the customer's `wechat_openid`)."""
    return ActionNode(
        id=node_id,
        name=name,
        channel="oa",
        action="template_message",
        params={"template_id": template_id, "data": dict(data), "url": url},
    )


REPURCHASE_EDGES: tuple[tuple[str, str, str], ...] = (
    ("first_order", "next", "tag_customer"),
    ("tag_customer", "next", "wait_21d"),
    ("wait_21d", "next", "replenish"),
    ("replenish", "next", "wait_repurchase"),
    ("wait_repurchase", "matched", "tag_repeat"),
    ("wait_repurchase", "timed_out", "winback_sms"),
    ("tag_repeat", "next", "wait_21d"),
    ("winback_sms", "next", "exit_lapsed"),
)
"""The repurchase loop's edges (source, label, target), from the first order to the lapse."""


def repurchase_loop(scale: Scale) -> list[Node]:
    """The repurchase loop both templates end in: the first order (a goal, from anywhere) tags
    the customer, a replenishment task every 21 days while they keep buying (within 14 days),
    an SMS win-back once they stop."""
    day = timedelta(days=1)
    return [
        GoalNode(id="first_order", name="First order paid", event_type=ORDER_PAID),
        UpdateProfileNode(
            id="tag_customer",
            name="Tag as customer",
            add_tags=["stage:customer"],
            remove_tags=["stage:lead"],
        ),
        WaitNode(id="wait_21d", name="Wait 21 days", duration=duration(21 * day, scale)),
        wecom_action(
            "replenish",
            "mass_message",
            "Replenishment touch (mass-message task)",
            "Running low? Restock today with free delivery: https://shop.example/c/restock",
        ),
        WaitForEventNode(
            id="wait_repurchase",
            name="Bought again? (14 days)",
            event_type=ORDER_PAID,
            timeout=duration(14 * day, scale),
        ),
        UpdateProfileNode(
            id="tag_repeat",
            name="Tag as repeat buyer",
            add_tags=["stage:repeat"],
            remove_tags=["stage:customer"],
        ),
        sms_action("winback_sms", "Win-back offer by SMS", "SMS_WINBACK", {"code": "BACK20"}),
        ExitNode(id="exit_lapsed", name="Stopped buying", reason="lapsed"),
    ]


def template_settings(scale: Scale) -> JourneySettings:
    """Both templates' settings: Shanghai time, quiet hours 21:00-09:00 in the real scale, and
    leaving when the customer deletes the staff contact."""
    return JourneySettings(
        timezone="Asia/Shanghai",
        quiet_hours=QuietHours(start=21, end=9) if scale == "real" else None,
        exit_triggers=[ExitTrigger(event_type=CONTACT_DELETED_BY_CUSTOMER, reason="deleted")],
    )
