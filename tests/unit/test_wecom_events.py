"""Translating WeCom callback messages into events (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import wecom_events
from domain.hooks import HookSpec, hook_state
from domain.wecom_events import UntranslatableCallback, translate

CORP = "ww-test"


def contact(change: str, **extra: str) -> dict[str, str]:
    message = {
        "ToUserName": CORP,
        "FromUserName": "sys",
        "CreateTime": "1772330400",
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": change,
        "UserID": "zhangsan",
        "ExternalUserID": "wmABC",
    }
    message.update(extra)
    return message


def group(detail: str, **extra: str) -> dict[str, str]:
    message = {
        "ToUserName": CORP,
        "CreateTime": "1772330400",
        "MsgType": "event",
        "Event": "change_external_chat",
        "ChatId": "wrCHAT",
        "ChangeType": "update",
        "UpdateDetail": detail,
        "JoinScene": "3",
        "MemChangeCnt": "1",
    }
    message.update(extra)
    return message


def test_an_added_contact_becomes_contact_added_with_state_hook_and_welcome_code() -> None:
    event = translate(
        contact("add_external_contact", State="h_123", WelcomeCode="WC1"), CORP, hook_id="hook_1"
    )
    assert event is not None
    assert event.type == "wecom.contact_added"
    assert event.identity == {"wecom_external_userid": "wmABC"}
    assert event.timestamp == datetime.fromtimestamp(1772330400, UTC)
    assert event.properties["staff_userid"] == "zhangsan"
    assert event.properties["state"] == "h_123"
    assert event.properties["hook_id"] == "hook_1"
    assert event.properties["welcome_code"] == "WC1"


def test_an_unknown_state_keeps_the_raw_state_without_a_hook() -> None:
    event = translate(contact("add_external_contact", State="altered-state"), CORP)
    assert event is not None
    assert event.properties["state"] == "altered-state"
    assert event.properties["hook_id"] is None
    assert event.properties["welcome_code"] is None


@pytest.mark.parametrize(
    ("change", "event_type"),
    [
        ("del_follow_user", "wecom.contact_deleted_by_customer"),
        ("del_external_contact", "wecom.contact_deleted_by_staff"),
        ("edit_external_contact", "wecom.tag_changed"),
    ],
)
def test_contact_changes_map_to_their_event_types(change: str, event_type: str) -> None:
    event = translate(contact(change), CORP)
    assert event is not None
    assert event.type == event_type
    assert event.properties["staff_userid"] == "zhangsan"


def test_a_group_join_names_the_chat_scene_and_member() -> None:
    event = translate(group("add_member", MemChangeList="wmA,wmB"), CORP, member="wmB")
    assert event is not None
    assert event.type == "wecom.group_joined"
    assert event.identity == {"wecom_external_userid": "wmB"}
    assert event.properties["chat_id"] == "wrCHAT"
    assert event.properties["join_scene"] == 3


def test_a_group_event_without_member_ids_translates_to_nothing() -> None:
    assert translate(group("add_member"), CORP) is None


def test_a_group_leave_becomes_group_left() -> None:
    event = translate(group("del_member", ExternalUserID="wmA", QuitScene="0"), CORP)
    assert event is not None
    assert event.type == "wecom.group_left"


def test_each_member_of_one_group_callback_gets_its_own_event_id() -> None:
    message = group("add_member", MemChangeList="wmA,wmB")
    first = translate(message, CORP, member="wmA")
    second = translate(message, CORP, member="wmB")
    assert first is not None and second is not None
    assert first.id != second.id


def test_kinds_journeys_ignore_translate_to_nothing() -> None:
    tag_library = {"ToUserName": CORP, "CreateTime": "1", "Event": "change_external_tag"}
    assert translate(tag_library, CORP) is None
    assert translate(contact("transfer_fail"), CORP) is None
    assert translate({"MsgType": "text", "Content": "hi"}, CORP) is None


def test_a_retried_callback_gets_the_same_event_id() -> None:
    first = translate(contact("add_external_contact", WelcomeCode="W"), CORP)
    again = translate(contact("add_external_contact", WelcomeCode="W"), CORP)
    later = translate(contact("add_external_contact", CreateTime="1772330401"), CORP)
    assert first is not None and again is not None and later is not None
    assert first.id == again.id
    assert first.id != later.id


def test_a_known_kind_missing_the_customer_is_untranslatable() -> None:
    message = contact("add_external_contact")
    del message["ExternalUserID"]
    with pytest.raises(UntranslatableCallback, match="ExternalUserID"):
        translate(message, CORP)


def test_a_malformed_create_time_is_untranslatable() -> None:
    with pytest.raises(UntranslatableCallback, match="CreateTime"):
        translate(contact("del_follow_user", CreateTime="yesterday"), CORP)


def test_a_create_time_beyond_any_date_is_untranslatable_not_a_crash() -> None:
    with pytest.raises(UntranslatableCallback, match="out of range"):
        translate(contact("del_follow_user", CreateTime="9" * 30), CORP)


@pytest.mark.parametrize(
    "create_time",
    ["".join(chr(zero + int(ch)) for ch in "1772330400") for zero in (0x0660, 0xFF10)]
    + ["17\u00b2"],
)
def test_a_create_time_in_other_digits_is_untranslatable(create_time: str) -> None:
    with pytest.raises(UntranslatableCallback, match="CreateTime"):
        translate(contact("del_follow_user", CreateTime=create_time), CORP)


@pytest.mark.parametrize("count", ["\u00b2", "--1", "-", "\uff11"])
def test_a_member_count_that_is_not_an_ascii_integer_is_left_out_not_a_crash(count: str) -> None:
    event = translate(group("add_member", MemChangeList="wmA", MemChangeCnt=count), CORP)
    assert event is not None
    assert event.properties["member_change_count"] is None


def test_hook_states_fit_wecoms_thirty_characters_and_differ_per_hook() -> None:
    first = hook_state("hook_019c0000000000001234567890ab")
    second = hook_state("hook_019c0000000000011234567890ab")
    assert first.startswith("h_")
    assert len(first) <= 30
    assert first != second


def test_a_join_way_needs_one_to_five_groups() -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        HookSpec(name="g", kind="join_way", chat_ids=[f"c{i}" for i in range(6)])
    with pytest.raises(ValueError, match="staff users"):
        HookSpec(name="c", kind="contact_way")


def test_the_kind_of_a_message_names_event_and_change() -> None:
    assert wecom_events.kind_of(group("add_member")) == "change_external_chat/update/add_member"
