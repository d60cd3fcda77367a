"""The canonical private-domain journey, "Douyin ad → WeCom → group → repurchase"
(ARCHITECTURE.md, "The canonical journey, concretely"): a customer scans the ad's WeCom channel code, is welcomed and tagged, gets the group live code,
is reminded once if they do not join, is onboarded in the group on days 1, 3 and 7, and once they
buy enters a repurchase loop that lasts as long as they keep buying. Deleting the staff contact
ends the enrollment anywhere.

The steps are real WeCom actions: the welcome is `wecom.welcome` (inside the 20-second window of
the add event's WelcomeCode), 1:1 touches are `wecom.mass_message` tasks the staff member
confirms, the day-1 touch is a `wecom.group_message`. The day-3 coupon shows how a touch follows
its task's outcome: it waits for the `wecom.mass_message.result` event and, unless WeCom reports
it `sent`, sends the coupon by SMS instead (`sms.send`, to the phone the staff member recorded on
the contact, which WeCom tells through `externalcontact/get`). The day-7 member-day reminder is an
Official Account template message (`oa.template_message`) for customers who follow the account
(a `wechat_openid`, linked through their unionid); the win-back offer is an SMS. A customer with
no phone or not following the account is not sent those (the action fails and the journey moves
on).

The template exists in two time scales with the same node ids, kinds and edges: `real`
(minutes and days, waits landing at 10:00 local, quiet hours 21:00-09:00) and `demo` (each real
day is two seconds, no local times or quiet hours) so the whole journey can be watched live.
The one exception to "two seconds a day" is the wait for a task's result (`DEMO_RESULT_WAIT`).
"""

from __future__ import annotations

from datetime import timedelta

from domain.conditions import IdentityCondition, LastEventCondition, PropertyCondition
from domain.customers import WECHAT_OPENID
from domain.journey import (
    BranchNode,
    BranchRule,
    Edge,
    EntryNode,
    ExitNode,
    HookTrigger,
    JourneyDefinition,
    LocalTime,
    Node,
    ReentryPolicy,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.templates.parts import (
    REPURCHASE_EDGES,
    SEND_HOUR,
    Scale,
    duration,
    oa_action,
    repurchase_loop,
    sms_action,
    template_settings,
    wecom_action,
)
from domain.wecom_events import GROUP_JOINED, MASS_MESSAGE_RESULT

DEFAULT_HOOK = "douyin-ad-spring"
"""The `state` of the Douyin ad's channel code (渠道活码) the canonical journey starts from."""

DEFAULT_GROUP_CODE_URL = "https://shop.example/g/live-code"
"""Where the member group's live code (群活码) is shown; the brand's own page in practice."""

MEMBER_DAY_TEMPLATE = "member-day"
"""The Official Account template of the member-day reminder (keywords `thing1`, `time2`)."""

DEFAULT_GROUP_OWNER = "zhangsan"
"""The staff userid owning the member groups, who sends the group messages."""

RESULT_WAIT = timedelta(hours=4)
"""How long a touch waits for WeCom's per-customer result of its mass-message task.

Staff confirm tasks in the WeCom app, usually within hours; a task still unconfirmed after four
hours is treated as not delivered. Short enough that the day-7 touch still lands on day 7."""

DEMO_RESULT_WAIT = timedelta(seconds=10)
"""The demo's result wait: its staff confirm tasks every few seconds and results are polled
every second or two, so the scaled 4 hours (one second) would always time out."""


def canonical_journey(
    scale: Scale = "real",
    hook: str = DEFAULT_HOOK,
    *,
    group_code_url: str = DEFAULT_GROUP_CODE_URL,
    group_owner: str = DEFAULT_GROUP_OWNER,
) -> JourneyDefinition:
    """The canonical "Douyin ad → WeCom → group → repurchase" journey in the given time scale.

    `hook` is the channel code's `state` customers arrive through; `group_code_url` the page of
    the member group's live code sent in the welcome and the invitations; `group_owner` the
    staff userid whose customer groups get the day-1 group message. 1:1 touches are sent by the
    staff member who added the customer (their `wecom_follow_user`).
    """

    def wait(node_id: str, real: timedelta, name: str, *, at_send_hour: bool = False) -> WaitNode:
        until = LocalTime(hour=SEND_HOUR) if at_send_hour and scale == "real" else None
        return WaitNode(id=node_id, name=name, duration=duration(real, scale), until=until)

    def wait_for(node_id: str, event_type: str, real: timedelta, name: str) -> WaitForEventNode:
        return WaitForEventNode(
            id=node_id, name=name, event_type=event_type, timeout=duration(real, scale)
        )

    def wait_for_result(node_id: str, touch: str, name: str) -> WaitForEventNode:
        return WaitForEventNode(
            id=node_id,
            name=name,
            event_type=MASS_MESSAGE_RESULT,
            where=[PropertyCondition(path="node_id", value=touch)],
            timeout=RESULT_WAIT if scale == "real" else DEMO_RESULT_WAIT,
        )

    day = timedelta(days=1)
    group_link = ("Join our member group", group_code_url)
    # Onboarding waits last N - 1/2 days before "until 10:00": they land on the intended calendar
    # day even when the previous touch ran hours late (a wait of exactly N days would skip a day
    # as soon as the previous send finished a second after 10:00).
    nodes: list[Node] = [
        EntryNode(
            id="entry",
            name="Scanned the Douyin ad's WeCom code",
            trigger=HookTrigger(hook=hook),
            reentry=ReentryPolicy(mode="after_exit"),
        ),
        wecom_action(
            "welcome",
            "welcome",
            "Welcome with first-order coupon",
            "Welcome! Here is your first-order coupon: https://shop.example/c/first-order",
            attach=group_link,
            urgent=True,  # the welcome must go out inside WeCom's 20-second window
        ),
        UpdateProfileNode(
            id="tag_lead", name="Tag as Douyin lead", add_tags=["source:douyin", "stage:lead"]
        ),
        wait("wait_30m", timedelta(minutes=30), "Wait 30 minutes"),
        wecom_action(
            "send_group_code",
            "mass_message",
            "Send the group live code (mass-message task)",
            "Join our member group for daily deals.",
            attach=group_link,
        ),
        wait_for("wait_group_join", GROUP_JOINED, 2 * day, "Joined the group? (2 days)"),
        wecom_action(
            "remind_group_join",
            "mass_message",
            "Group reminder (mass-message task)",
            "Members get a coupon every week - tap to join the group.",
            attach=group_link,
        ),
        wait_for("wait_group_join_again", GROUP_JOINED, 3 * day, "Joined the group? (3 days)"),
        ExitNode(id="exit_not_onboarded", name="Never joined the group", reason="not_onboarded"),
        wait("wait_day1", day / 2, "Until 10:00 on day 1", at_send_hour=True),
        wecom_action(
            "group_day1",
            "group_message",
            "Group message, day 1",
            "Welcome to the group! Today's pick is in the group notice.",
            sender=group_owner,
        ),
        wait("wait_day3", 1.5 * day, "Until 10:00 on day 3", at_send_hour=True),
        wecom_action(
            "coupon_day3",
            "mass_message",
            "Coupon, day 3 (mass-message task)",
            "Your 3-day member coupon is ready: https://shop.example/c/day3",
        ),
        wait_for_result("wait_coupon_result", "coupon_day3", "Coupon delivered by WeCom?"),
        BranchNode(
            id="coupon_delivered",
            name="Did WeCom send the coupon?",
            rules=[
                BranchRule(
                    id="sent",
                    conditions=[
                        LastEventCondition(where=PropertyCondition(path="status", value="sent"))
                    ],
                )
            ],
        ),
        sms_action(
            "coupon_day3_sms",
            "Coupon by SMS (not sent on WeCom)",
            "SMS_COUPON_DAY3",
            {"url": "https://shop.example/c/day3"},
        ),
        wait("wait_day7", 3.5 * day, "Until 10:00 on day 7", at_send_hour=True),
        BranchNode(
            id="follows_oa",
            name="Follows the Official Account?",
            rules=[
                BranchRule(id="follower", conditions=[IdentityCondition(identity=WECHAT_OPENID)])
            ],
        ),
        oa_action(
            "member_day_day7",
            "Member-day reminder, day 7 (Official Account)",
            MEMBER_DAY_TEMPLATE,
            "https://shop.example/member-day",
            thing1="Member day is tomorrow: double points on every order",
            time2="Tomorrow 10:00",
        ),
        ExitNode(id="exit_not_converted", name="Onboarded, no order", reason="not_converted"),
        *repurchase_loop(scale),
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
            ("coupon_day3", "next", "wait_coupon_result"),
            ("wait_coupon_result", "matched", "coupon_delivered"),
            ("wait_coupon_result", "timed_out", "coupon_day3_sms"),
            ("coupon_delivered", "sent", "wait_day7"),
            ("coupon_delivered", "else", "coupon_day3_sms"),
            ("coupon_day3_sms", "next", "wait_day7"),
            ("wait_day7", "next", "follows_oa"),
            ("follows_oa", "follower", "member_day_day7"),
            ("follows_oa", "else", "exit_not_converted"),
            ("member_day_day7", "next", "exit_not_converted"),
            *REPURCHASE_EDGES,
        )
    ]
    return JourneyDefinition(nodes=nodes, edges=edges, settings=template_settings(scale))
