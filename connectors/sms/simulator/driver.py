"""Pushes what the providers push: delivery reports (状态报告) and replies (上行), in each
provider's callback format, to a tenant's callback URL.

Alibaba Cloud (HTTP batch push) posts a JSON array: SmsReport entries
`{phone_number, send_time, report_time, success, err_code, err_msg, sms_size, biz_id, out_id}`
and SmsUp entries `{phone_number, send_time, content, sign_name, dest_code, sequence_id}`,
and expects `{"code": 0, "msg": ...}`. Tencent Cloud posts a JSON array of reports
`{user_receive_time, nationcode, mobile, report_status, errmsg, description, sid}` and a reply
object `{extend, mobile, nationcode, sign, text, time}`, and expects `{"result": 0, ...}`.
Neither signs its pushes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.sms.simulator.state import SimulatedSms

_CHINA = timedelta(hours=8)


def _local(at: float) -> str:
    """Provider time: Beijing, `YYYY-MM-DD HH:MM:SS`."""
    return (datetime.fromtimestamp(at, UTC) + _CHINA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Pushed:
    """What our callback answered."""

    status: int
    body: Any


class SmsDriver:
    """Plays the provider's pushes and the customers' replies."""

    def __init__(self, http: httpx.AsyncClient, callback_url: str) -> None:
        self._http = http
        self.callback_url = callback_url

    def report_body(
        self, sms: SimulatedSms, *, delivered: bool = True, error_code: str | None = None
    ) -> Any:
        """The provider's report of `sms` (delivered, or failed with `error_code`)."""
        now = time.time()
        if sms.provider == "aliyun":
            return [
                {
                    "phone_number": sms.phone,
                    "send_time": _local(sms.sent_at),
                    "report_time": _local(now),
                    "success": delivered,
                    "err_code": "DELIVERED" if delivered else (error_code or "UNDELIV"),
                    "err_msg": "用户接收成功" if delivered else "用户接收失败",
                    "sms_size": "1",
                    "biz_id": sms.message_id,
                    "out_id": sms.reference,
                }
            ]
        return [
            {
                "user_receive_time": _local(now),
                "nationcode": "86",
                "mobile": sms.phone,
                "report_status": "SUCCESS" if delivered else "FAIL",
                "errmsg": "DELIVRD" if delivered else (error_code or "UNDELIV"),
                "description": "用户短信送达成功" if delivered else "用户短信接收失败",
                "sid": sms.message_id,
            }
        ]

    def reply_body(self, provider: str, phone: str, text: str, sign_name: str = "") -> Any:
        """The provider's push of a reply `text` from `phone`."""
        now = time.time()
        if provider == "aliyun":
            return [
                {
                    "phone_number": phone,
                    "send_time": _local(now),
                    "content": text,
                    "sign_name": sign_name,
                    "dest_code": "1234",
                    "sequence_id": int(now * 1000),
                }
            ]
        return {
            "extend": "",
            "mobile": phone,
            "nationcode": "86",
            "sign": sign_name,
            "text": text,
            "time": int(now),
        }

    async def push(self, body: Any) -> Pushed:
        """POST `body` as JSON to the callback URL."""
        response = await self._http.post(self.callback_url, json=body)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        return Pushed(response.status_code, answer)

    async def report(
        self, sms: SimulatedSms, *, delivered: bool = True, error_code: str | None = None
    ) -> Pushed:
        """Push the delivery report of `sms`."""
        return await self.push(self.report_body(sms, delivered=delivered, error_code=error_code))

    async def reply(self, provider: str, phone: str, text: str, sign_name: str = "") -> Pushed:
        """Push a reply from `phone`."""
        return await self.push(self.reply_body(provider, phone, text, sign_name))
