"""WeChat params and push translation, pure: what each push becomes and what params allow."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.wechat.params import SubscribeMessageParams, TemplateMessageParams
from domain import wechat_events
from domain.templating import TEMPLATE_MARK
from domain.wechat_events import WeChatMessage

BASE = {"FromUserName": "oUser", "CreateTime": "1772330400", "MsgType": "event"}


def oa(**fields: str) -> list[dict[str, object]]:
    message = WeChatMessage({**BASE, **fields})
    return [e.model_dump() for e in wechat_events.translate("oa", "wxoa1", message)]


def test_a_follow_by_parametric_qr_carries_its_scene_without_the_prefix() -> None:
    [event] = oa(Event="subscribe", EventKey="qrscene_spring", Ticket="t1")
    assert event["type"] == "oa.followed"
    assert event["identity"] == {"wechat_openid": "oUser"}
    assert event["properties"]["scene"] == "spring"


def test_a_plain_follow_has_no_scene_and_a_scan_has_its_scene_as_sent() -> None:
    [plain] = oa(Event="subscribe", EventKey="")
    assert plain["properties"]["scene"] is None
    [scan] = oa(Event="SCAN", EventKey="spring")
    assert scan["type"] == "oa.scanned" and scan["properties"]["scene"] == "spring"


def test_template_job_status_decides_delivered_or_failed() -> None:
    [ok] = oa(Event="TEMPLATESENDJOBFINISH", MsgID="200", Status="success")
    [blocked] = oa(Event="TEMPLATESENDJOBFINISH", MsgID="201", Status="failed:user block")
    assert (ok["type"], ok["properties"]["msgid"]) == ("oa.template_delivered", "200")
    assert blocked["type"] == "oa.template_failed"
    with pytest.raises(wechat_events.UntranslatableMessageError, match="MsgID"):
        oa(Event="TEMPLATESENDJOBFINISH", Status="success")


def test_a_unionid_names_a_second_identity_and_ids_are_stable() -> None:
    [first] = oa(Event="unsubscribe", UnionId="u1")
    [again] = oa(Event="unsubscribe", UnionId="u1")
    assert first["identity"] == {"wechat_openid": "oUser", "unionid": "u1"}
    assert first["id"] == again["id"]


def test_only_accepted_popup_templates_become_authorisations() -> None:
    message = WeChatMessage(
        {**BASE, "Event": "subscribe_msg_popup_event"},
        [
            {"TemplateId": "T1", "SubscribeStatusString": "accept"},
            {"TemplateId": "T2", "SubscribeStatusString": "reject"},
            {"TemplateId": "T3", "SubscribeStatusString": "accept"},
        ],
    )
    events = wechat_events.translate("miniprogram", "wxmp1", message)
    assert [(e.type, e.properties["template_id"]) for e in events] == [
        ("miniprogram.subscribe_authorized", "T1"),
        ("miniprogram.subscribe_authorized", "T3"),
    ]
    assert events[0].identity == {"miniprogram_openid": "oUser"}
    assert len({e.id for e in events}) == 2


def test_other_messages_translate_to_nothing() -> None:
    assert oa(MsgType="text", Event="") == []


def test_template_data_is_declared_as_templates_and_checked() -> None:
    schema = TemplateMessageParams.model_json_schema()
    assert schema["properties"]["data"][TEMPLATE_MARK] == "liquid"
    with pytest.raises(ValidationError, match="miniprogram_appid"):
        TemplateMessageParams.model_validate(
            {"template_id": "T", "data": {"thing1": "x"}, "miniprogram_page": "pages/a"}
        )
    with pytest.raises(ValidationError):
        TemplateMessageParams.model_validate({"template_id": "T", "data": {"1bad": "x"}})
    with pytest.raises(ValidationError):
        SubscribeMessageParams.model_validate(
            {"template_id": "T", "data": {"thing1": "x"}, "miniprogram_state": "beta"}
        )
