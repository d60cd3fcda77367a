"""What the SMS providers push to a tenant's callback URL, read into `Report`s and `Reply`s.

Alibaba Cloud posts a JSON array of SmsReport entries (`biz_id`, `out_id`, `phone_number`,
`success`, `err_code`, `report_time`) or SmsUp entries (`phone_number`, `content`, `send_time`,
`sequence_id`); Tencent Cloud posts an array of reports (`sid`, `mobile`, `report_status`,
`errmsg`, `user_receive_time`) or a reply object (`mobile`, `text`, `time`). Times are Beijing
time (`YYYY-MM-DD HH:MM:SS`, or Unix seconds). `read(provider, body)` raises `ValueError` on
anything else, naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from domain.customers import PHONE, normalize_identity
from domain.sms import SmsProvider

BEIJING = timezone(timedelta(hours=8))
MAX_ENTRIES = 500


@dataclass(frozen=True, slots=True)
class Report:
    """A delivery report (状态报告) of one message."""

    message_id: str
    phone: str
    delivered: bool
    code: str
    description: str
    reference: str | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply (上行) from a phone."""

    phone: str
    text: str
    sign_name: str
    key: str
    at: datetime | None


def _text(entry: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = entry.get(name)
    if not required and (value is None or value == ""):
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise ValueError(f"`{name}` is missing or not a string")
    return str(value)


def _phone(entry: dict[str, Any], name: str) -> str:
    return normalize_identity(PHONE, _text(entry, name))


def _time(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError:
            return None
    return None


def _aliyun(entry: dict[str, Any]) -> Report | Reply:
    if "biz_id" in entry:
        success = entry.get("success")
        if not isinstance(success, bool):
            raise ValueError("`success` must be true or false")
        return Report(
            message_id=_text(entry, "biz_id"),
            phone=_phone(entry, "phone_number"),
            delivered=success,
            code=_text(entry, "err_code", required=False),
            description=_text(entry, "err_msg", required=False),
            reference=_text(entry, "out_id", required=False) or None,
            at=_time(entry.get("report_time")),
        )
    if "content" in entry:
        sequence = _text(entry, "sequence_id", required=False)
        phone, sent = _phone(entry, "phone_number"), _text(entry, "send_time", required=False)
        return Reply(
            phone=phone,
            text=_text(entry, "content", required=False),
            sign_name=_text(entry, "sign_name", required=False),
            key=sequence or f"{phone}:{sent}",
            at=_time(entry.get("send_time")),
        )
    raise ValueError("an entry is neither a report (biz_id) nor a reply (content)")


def _tencent(entry: dict[str, Any]) -> Report | Reply:
    if "sid" in entry:
        status = _text(entry, "report_status")
        if status not in ("SUCCESS", "FAIL"):
            raise ValueError("`report_status` must be SUCCESS or FAIL")
        return Report(
            message_id=_text(entry, "sid"),
            phone=_phone(entry, "mobile"),
            delivered=status == "SUCCESS",
            code=_text(entry, "errmsg", required=False),
            description=_text(entry, "description", required=False),
            reference=None,
            at=_time(entry.get("user_receive_time")),
        )
    if "text" in entry:
        phone = _phone(entry, "mobile")
        sent = entry.get("time")
        return Reply(
            phone=phone,
            text=_text(entry, "text", required=False),
            sign_name=_text(entry, "sign", required=False),
            key=f"{phone}:{sent}",
            at=_time(sent),
        )
    raise ValueError("an entry is neither a report (sid) nor a reply (text)")


def read(provider: SmsProvider, body: Any) -> list[Report | Reply]:
    """The reports and replies of one push (module docstring)."""
    entries = body if isinstance(body, list) else [body]
    if not entries or len(entries) > MAX_ENTRIES:
        raise ValueError(f"a push holds 1 to {MAX_ENTRIES} entries")
    if not all(isinstance(entry, dict) for entry in entries):
        raise ValueError("every entry must be an object")
    reader = _aliyun if provider == "aliyun" else _tencent
    return [reader(entry) for entry in entries]
