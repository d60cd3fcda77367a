"""The lead journey: "Douyin lead → SMS invite → WeCom → group → repurchase".

A Douyin lead form (`lead.created`, pushed by Ocean Engine: the customer's phone and the ad) is
invited by SMS to add the brand's WeCom staff through the link of its channel code. When the
staff member records the phone on the new contact, WeCom tells it through `externalcontact/get`
and the contact is linked to the lead's customer, so the `wecom.contact_added` reaches this
journey: the welcome goes out inside WeCom's 20-second window with the group live code. A lead
who does not add within two days is reminded once by SMS; one who joins the group gets the day-1
group message; a first order starts the repurchase loop of the canonical journey (replenishment
every 21 days while they keep buying, an SMS win-back after 14 quiet days).

Two time scales, as the canonical journey (`domain.templates.canonical`).
"""

from __future__ import annotations

from datetime import timedelta

from domain.journey import (
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    JourneyDefinition,
    LocalTime,
    Node,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.sources.leads import LEAD_CREATED
from domain.templates.parts import (
    REPURCHASE_EDGES,
    SEND_HOUR,
    Scale,
    duration,
    repurchase_loop,
    sms_action,
    template_settings,
    wecom_action,
)
from domain.wecom_events import CONTACT_ADDED, GROUP_JOINED

DEFAULT_WECOM_LINK = "https://work.weixin.qq.com/ca/cawcde-lead-spring"
"""The link of the WeCom channel code (获客链接) the invitation SMS carries."""

DEFAULT_GROUP_CODE_URL = "https://shop.example/g/live-code"
DEFAULT_GROUP_OWNER = "zhangsan"

LEAD_NAME = "{{ event.properties.name | default: '朋友' }}"
"""The lead's name from the form, in the invitation."""


def lead_journey(
    scale: Scale = "real",
    *,
    wecom_link: str = DEFAULT_WECOM_LINK,
    group_code_url: str = DEFAULT_GROUP_CODE_URL,
    group_owner: str = DEFAULT_GROUP_OWNER,
) -> JourneyDefinition:
    """The lead journey in the given time scale; `wecom_link` is the channel code's link the
    invitation carries, `group_code_url` the member group's live code sent with the welcome,
    `group_owner` the staff userid whose groups get the day-1 message."""

    def wait_for(node_id: str, event_type: str, real: timedelta, name: str) -> WaitForEventNode:
        return WaitForEventNode(
            id=node_id, name=name, event_type=event_type, timeout=duration(real, scale)
        )

    def wait(node_id: str, real: timedelta, name: str, *, at_send_hour: bool = False) -> WaitNode:
        until = LocalTime(hour=SEND_HOUR) if at_send_hour and scale == "real" else None
        return WaitNode(id=node_id, name=name, duration=duration(real, scale), until=until)

    day = timedelta(days=1)
    nodes: list[Node] = [
        EntryNode(
            id="entry",
            name="Left a Douyin lead form",
            trigger=EventTrigger(event_type=LEAD_CREATED),
        ),
        UpdateProfileNode(
            id="tag_lead", name="Tag as Douyin lead", add_tags=["source:douyin-lead", "stage:lead"]
        ),
        sms_action(
            "sms_invite",
            "Invite to WeCom by SMS",
            "SMS_LEAD_INVITE",
            {"name": LEAD_NAME, "link": wecom_link},
        ),
        wait_for("wait_add", CONTACT_ADDED, 2 * day, "Added the staff member? (2 days)"),
        sms_action("sms_reminder", "SMS reminder", "SMS_LEAD_REMINDER", {"link": wecom_link}),
        wait_for("wait_add_again", CONTACT_ADDED, 3 * day, "Added after the reminder? (3 days)"),
        ExitNode(id="exit_never_added", name="Never added WeCom", reason="never_added"),
        wecom_action(
            "welcome",
            "welcome",
            "Welcome with the group code",
            "Thanks for adding us! Your first-order coupon: https://shop.example/c/first-order",
            attach=("Join our member group", group_code_url),
            urgent=True,
        ),
        UpdateProfileNode(
            id="tag_contact", name="Tag as WeCom contact", add_tags=["stage:contact"]
        ),
        wait_for("wait_group_join", GROUP_JOINED, 3 * day, "Joined the group? (3 days)"),
        ExitNode(id="exit_not_onboarded", name="Never joined the group", reason="not_onboarded"),
        wait("wait_day1", day / 2, "Until 10:00 on day 1", at_send_hour=True),
        wecom_action(
            "group_day1",
            "group_message",
            "Group message, day 1",
            "Welcome to the group! Today's pick is in the group notice.",
            sender=group_owner,
        ),
        wait("wait_week", 7 * day, "A week to buy"),
        ExitNode(id="exit_not_converted", name="Onboarded, no order", reason="not_converted"),
        *repurchase_loop(scale),
    ]
    edges = [
        Edge(source=source, target=target, label=label)
        for source, label, target in (
            ("entry", "next", "tag_lead"),
            ("tag_lead", "next", "sms_invite"),
            ("sms_invite", "next", "wait_add"),
            ("wait_add", "matched", "welcome"),
            ("wait_add", "timed_out", "sms_reminder"),
            ("sms_reminder", "next", "wait_add_again"),
            ("wait_add_again", "matched", "welcome"),
            ("wait_add_again", "timed_out", "exit_never_added"),
            ("welcome", "next", "tag_contact"),
            ("tag_contact", "next", "wait_group_join"),
            ("wait_group_join", "matched", "wait_day1"),
            ("wait_group_join", "timed_out", "exit_not_onboarded"),
            ("wait_day1", "next", "group_day1"),
            ("group_day1", "next", "wait_week"),
            ("wait_week", "next", "exit_not_converted"),
            *REPURCHASE_EDGES,
        )
    ]
    return JourneyDefinition(nodes=nodes, edges=edges, settings=template_settings(scale))
