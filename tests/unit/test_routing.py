"""Routing decisions (`domain.routing`), taken on data: no store, no Temporal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import routing
from domain.conditions import PropertyCondition
from domain.enrollments import Enrollment, EnrollmentStatus, enrollment_id
from domain.journey import (
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    HookTrigger,
    JourneyDefinition,
    ManualTrigger,
    ReentryPolicy,
    Trigger,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def journey(trigger: Trigger, reentry: ReentryPolicy | None = None) -> JourneyDefinition:
    entry = EntryNode(id="entry", trigger=trigger, reentry=reentry or ReentryPolicy())
    return JourneyDefinition(
        nodes=[entry, ExitNode(id="done", reason="finished")],
        edges=[Edge(source="entry", target="done", label="next")],
    )


PAID_OVER_100 = journey(
    EventTrigger(
        event_type="order.paid", where=[PropertyCondition(path="total", op="gt", value=100)]
    )
)
PER_ORDER = journey(
    EventTrigger(event_type="order.paid"),
    ReentryPolicy(mode="concurrent", entry_key="order.id"),
)


def enrollment(
    journey_id: str,
    customer_id: str = "c1",
    *,
    version: int = 1,
    status: EnrollmentStatus = "active",
    started: int = 0,
) -> Enrollment:
    return Enrollment(
        id=enrollment_id("t", journey_id, customer_id),
        tenant_id="t",
        journey_id=journey_id,
        version=version,
        customer_id=customer_id,
        status=status,
        started_at=T0 + timedelta(minutes=started),
        updated_at=T0 + timedelta(minutes=started),
    )


def test_an_event_matching_the_trigger_and_its_conditions_enters_the_journey() -> None:
    decision = routing.entry("j", 3, PAID_OVER_100, {"total": 120})
    assert decision == routing.Enter("j", 3, "never", None, None)


def test_an_event_failing_a_where_condition_does_not_enter_and_says_nothing() -> None:
    assert routing.entry("j", 3, PAID_OVER_100, {"total": 80}) is None


def test_a_hook_entry_is_entered_by_its_own_state_and_notes_the_first_touch_hook() -> None:
    hooked = journey(HookTrigger(hook="douyin-live"))
    decision = routing.entry("j", 1, hooked, {"state": "douyin-live"})
    assert isinstance(decision, routing.Enter)
    assert decision.first_touch_hook == "douyin-live"
    assert routing.entry("j", 1, hooked, {"state": "other-hook"}) is None


def test_a_journey_without_an_event_or_hook_trigger_is_never_entered_by_an_event() -> None:
    assert routing.entry("j", 1, journey(ManualTrigger()), {"state": "x"}) is None


@pytest.mark.parametrize(("value", "key"), [("A-1", "A-1"), (42, "42")])
def test_a_concurrent_journey_enrolls_one_per_entry_key_read_from_the_event(
    value: Any, key: str
) -> None:
    decision = routing.entry("j", 1, PER_ORDER, {"order": {"id": value}})
    assert isinstance(decision, routing.Enter)
    assert (decision.reentry, decision.entry_key) == ("concurrent", key)


@pytest.mark.parametrize("properties", [{}, {"order": {"id": ""}}, {"order": {"id": True}}])
def test_a_concurrent_journey_is_not_entered_by_an_event_lacking_a_usable_key(
    properties: dict[str, Any],
) -> None:
    decision = routing.entry("j", 1, PER_ORDER, properties)
    assert decision == routing.NotEntered(
        "journey 'j' enrolls one per 'order.id', which this event lacks; not enrolled"
    )


def test_only_a_concurrent_journey_carries_its_entry_key_into_the_id() -> None:
    assert routing.id_entry_key("concurrent", "A-1") == "A-1"
    assert routing.id_entry_key("after_exit", "A-1") is None
    assert routing.id_entry_key("never", "A-1") is None


def test_a_hashed_entry_key_names_the_unhashed_id_an_older_release_gave_it() -> None:
    key = "order with spaces"
    assert routing.legacy_enrollment_id("t", "j", "c1", key) == f"t:j:c1:{key}"
    assert routing.legacy_enrollment_id("t", "j", "c1", "A-1") is None  # a token is not hashed
    assert routing.legacy_enrollment_id("t", "j", "c1", None) is None


def test_an_unhashed_id_over_temporals_limit_was_never_started_so_is_not_looked_for() -> None:
    long_key = "x" * routing.MAX_TEMPORAL_ID_BYTES
    assert routing.legacy_enrollment_id("t", "j", "c1", long_key) is None


def test_running_enrollments_listening_for_the_type_are_signalled_except_those_entered() -> None:
    welcome, nurture, entered = (
        enrollment("welcome"),
        enrollment("nurture", version=2),
        enrollment("paid"),
    )
    running = [welcome, nurture, entered]
    assert routing.versions_to_check(running, {entered.id}) == [("welcome", 1), ("nurture", 2)]
    listened = {("welcome", 1): {"order.paid"}, ("nurture", 2): {"contact.deleted"}}
    assert routing.signal_targets("order.paid", running, {entered.id}, listened) == [welcome]


def test_each_version_is_looked_up_once_in_the_order_enrollments_come() -> None:
    running = [enrollment("b"), enrollment("a"), enrollment("b", "c2")]
    assert routing.versions_to_check(running, set()) == [("b", 1), ("a", 1)]


def test_the_survivors_own_running_enrollment_needs_no_stand_in() -> None:
    own = enrollment("j", "survivor")
    assert routing.stand_in(own, [enrollment("j", "merged")], "never", has_event=True) is None


def test_a_merged_customers_running_enrollment_stands_in_and_gets_the_event() -> None:
    older, newer = enrollment("j", "m1", started=0), enrollment("j", "m2", started=5)
    ended = enrollment("j", "m3", status="exited", started=-5)
    decision = routing.stand_in(None, [newer, ended, older], "after_exit", has_event=True)
    assert decision == routing.StandIn(older.id, deliver=True)
    assert routing.stand_in(None, [older], "after_exit", has_event=False) == routing.StandIn(
        older.id, deliver=False
    )


def test_a_closed_merged_enrollment_refuses_a_never_journey_but_not_an_after_exit_one() -> None:
    ended = enrollment("j", "m1", status="exited")
    assert routing.stand_in(None, [ended], "never", has_event=True) == routing.StandIn(
        ended.id, deliver=False
    )
    assert routing.stand_in(None, [ended], "after_exit", has_event=True) is None
    assert routing.stand_in(None, [], "never", has_event=True) is None


def test_a_short_token_entry_key_stands_in_the_enrollment_id_as_it_is() -> None:
    assert routing.entry_key_segment("ORD-2026.03_7") == "ORD-2026.03_7"
    assert enrollment_id("t", "j", "c1", "ORD-1") == "t:j:c1:ORD-1"


@pytest.mark.parametrize("key", ["order with spaces", "订单-1", "x" * 65, "y" * 5000])
def test_any_other_entry_key_is_hashed_so_the_id_stays_short_and_tells_keys_apart(key: str) -> None:
    segment = routing.entry_key_segment(key)
    assert segment.startswith(routing.HASHED_ENTRY_KEY_MARK) and len(segment) == 33
    assert routing.entry_key_segment(key + "!") != segment
    assert enrollment_id("t", "j", "c1", key) == f"t:j:c1:{segment}"
