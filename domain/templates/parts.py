"""What the journey templates are built from: their two time scales and the action nodes of each
channel they use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from domain.journey import ActionNode

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
