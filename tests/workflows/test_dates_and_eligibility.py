"""On the real Temporal server: a wait until the customer's own date, and an enrollment that
leaves when `exit_unless` stops holding, before its action is attempted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.conditions import AttributeCondition, PropertyCondition
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    ExitNode,
    JourneyDefinition,
    JourneySettings,
    WaitNode,
    WaitUntilDateNode,
)
from tests.workflows.harness import Bench


def renewal_journey() -> JourneyDefinition:
    """Remind members one second before their membership expires."""
    return JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            WaitUntilDateNode(
                id="before_expiry", attribute="membership.expires_at", offset=-timedelta(seconds=1)
            ),
            ActionNode(
                id="remind",
                channel="sandbox",
                action="send_message",
                params={"text": "renew"},
                respect_quiet_hours=False,
            ),
            ExitNode(id="reminded", reason="reminded"),
            ExitNode(id="no_membership", reason="no_membership"),
        ],
        edges=[
            Edge(source="in", target="before_expiry"),
            Edge(source="before_expiry", target="remind"),
            Edge(source="before_expiry", target="no_membership", label="missing"),
            Edge(source="remind", target="reminded"),
        ],
    )


async def test_a_member_is_reminded_at_their_own_date_and_others_take_missing(
    jb: Bench,
) -> None:
    journey_id, version = await jb.publish(renewal_journey())
    member = await jb.customer(external_id="member")
    expires = datetime.now(UTC) + timedelta(seconds=3)
    await jb.store.customers.update_profile(
        jb.tenant_id,
        member,
        datetime.now(UTC),
        set_attributes={"membership": {"expires_at": expires.isoformat()}},
    )
    stranger = await jb.customer(external_id="stranger")

    member_enrollment = await jb.enroll(journey_id, version, member)
    stranger_enrollment = await jb.enroll(journey_id, version, stranger)
    waiting = await jb.until(member_enrollment, lambda e: e.current_node == "before_expiry")
    result = await jb.result(member_enrollment)
    other = await jb.result(stranger_enrollment)

    assert waiting.status == "active"
    assert (result.status, result.reason) == ("exited", "reminded")
    [delivery] = await jb.deliveries(member_enrollment)
    assert delivery.status == "succeeded"
    assert delivery.created_at >= expires - timedelta(seconds=1)
    assert (other.status, other.reason) == ("exited", "no_membership")
    assert await jb.deliveries(stranger_enrollment) == []


async def test_a_customer_no_longer_eligible_leaves_before_the_action(jb: Bench) -> None:
    vip = AttributeCondition(where=PropertyCondition(path="tier", op="eq", value="vip"))
    definition = JourneyDefinition(
        nodes=[
            EntryNode(id="in"),
            WaitNode(id="pause", duration=timedelta(seconds=2)),
            ActionNode(
                id="offer",
                channel="sandbox",
                action="send_message",
                params={"text": "vip offer"},
                respect_quiet_hours=False,
            ),
            ExitNode(id="out"),
        ],
        edges=[
            Edge(source="in", target="pause"),
            Edge(source="pause", target="offer"),
            Edge(source="offer", target="out"),
        ],
        settings=JourneySettings(exit_unless=[vip], exit_unless_reason="downgraded"),
    )
    journey_id, version = await jb.publish(definition)
    stays = await jb.customer(external_id="stays")
    drops = await jb.customer(external_id="drops")
    now = datetime.now(UTC)
    for customer_id in (stays, drops):
        await jb.store.customers.update_profile(
            jb.tenant_id, customer_id, now, set_attributes={"tier": "vip"}
        )
    kept = await jb.enroll(journey_id, version, stays)
    dropped = await jb.enroll(journey_id, version, drops)
    await jb.until(dropped, lambda e: e.current_node == "pause")
    await jb.store.customers.update_profile(
        jb.tenant_id, drops, datetime.now(UTC), set_attributes={"tier": "gold"}
    )

    kept_result = await jb.result(kept)
    dropped_result = await jb.result(dropped)

    assert (kept_result.status, kept_result.reason) == ("exited", "completed")
    assert [d.status for d in await jb.deliveries(kept)] == ["succeeded"]
    assert (dropped_result.status, dropped_result.reason) == ("exited", "downgraded")
    assert await jb.deliveries(dropped) == []
