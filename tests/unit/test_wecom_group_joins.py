"""Group joins: WeCom's callback names the chat, `groupchat/get` names each member's join way."""

from __future__ import annotations

from domain.wecom_events import GroupMember, joining_members, translate

CREATED = 1772330400


def join(**extra: str) -> dict[str, str]:
    message = {
        "ToUserName": "ww-corp",
        "CreateTime": str(CREATED),
        "MsgType": "event",
        "Event": "change_external_chat",
        "ChatId": "wr-1",
        "ChangeType": "update",
        "UpdateDetail": "add_member",
    }
    message.update(extra)
    return message


def member(
    userid: str, joined: int, *, type_: int = 2, state: str | None = "h_group"
) -> GroupMember:
    return GroupMember(userid=userid, type=type_, state=state, join_scene=3, join_time=joined)


def test_members_the_callback_names_are_paired_with_their_listing() -> None:
    listed = [member("wm-a", CREATED), member("wm-b", CREATED, state=None)]

    found = joining_members(join(MemChangeList="wm-a,wm-c"), listed)

    assert found == [("wm-a", listed[0]), ("wm-c", None)]


def test_without_named_members_the_latest_external_joiners_are_taken_up_to_the_count() -> None:
    listed = [
        member("wm-old", CREATED - 3600),
        member("staff", CREATED, type_=1),
        member("wm-first", CREATED - 5),
        member("wm-last", CREATED),
    ]

    found = joining_members(join(MemChangeCnt="1"), listed)
    both = joining_members(join(MemChangeCnt="2"), listed)

    assert [userid for userid, _ in found] == ["wm-last"]
    assert [userid for userid, _ in both] == ["wm-last", "wm-first"]


def test_without_named_members_or_a_listing_nobody_is_found() -> None:
    assert joining_members(join(MemChangeCnt="1"), None) == []


def test_a_looked_up_state_and_scene_fill_the_group_joined_event() -> None:
    event = translate(
        join(MemChangeList="wm-a"),
        "ww-corp",
        hook_id="hook_1",
        member="wm-a",
        member_state="h_group",
        member_join_scene=3,
    )

    assert event is not None and event.type == "wecom.group_joined"
    assert event.properties["state"] == "h_group"
    assert event.properties["hook_id"] == "hook_1"
    assert event.properties["join_scene"] == 3


def test_the_callbacks_own_join_scene_wins_over_the_listing() -> None:
    event = translate(
        join(MemChangeList="wm-a", JoinScene="1"), "ww-corp", member="wm-a", member_join_scene=3
    )

    assert event is not None and event.properties["join_scene"] == 1
