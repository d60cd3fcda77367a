"""The simulated SMS account's state: sent messages and the sample limits both providers apply.

Limits checked, in this order, after the request's signature: the sign name and template are
approved (when lists are given), the number is a mainland mobile, not blacklisted, the account
has balance, and the number got no SMS within `per_phone_interval` seconds nor more than
`per_phone_daily` today. Each failure is a `RefusedError` naming the rule; each provider's server
translates it into its own code.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Literal

Clock = Callable[[], float]
Rule = Literal["sign", "template", "params", "number", "blacklist", "balance", "interval", "daily"]
_MAINLAND_MOBILE = re.compile(r"^1\d{10}$")


class RefusedError(Exception):
    """A send the account refuses, by `rule`."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self.rule = rule


@dataclass
class SimulatedSms:
    """One message the simulator accepted."""

    provider: Literal["aliyun", "tencent"]
    message_id: str
    phone: str
    sign_name: str
    template: str
    params: dict[str, str] | list[str]
    reference: str
    sent_at: float


@dataclass
class SmsAccount:
    """Both providers' view of one account (module docstring)."""

    access_key_id: str
    secret: str
    sdk_app_id: str = "1400000001"
    sign_names: Collection[str] = ()
    templates: Collection[str] = ()
    blacklist: set[str] = field(default_factory=set)
    balance: int | None = None
    per_phone_interval: float = 30.0
    per_phone_daily: int = 10
    clock: Clock = time.time
    sent: list[SimulatedSms] = field(default_factory=list)
    fail_next: list[str] = field(default_factory=list)
    """Provider codes to answer instead of sending, one per request (injected failures)."""

    def check(self, phone: str, sign_name: str, template: str) -> None:
        """Raise `RefusedError` unless the account may send this now (module docstring)."""
        if self.sign_names and sign_name not in self.sign_names:
            raise RefusedError("sign")
        if self.templates and template not in self.templates:
            raise RefusedError("template")
        if not _MAINLAND_MOBILE.match(phone):
            raise RefusedError("number")
        if phone in self.blacklist:
            raise RefusedError("blacklist")
        if self.balance is not None and self.balance <= 0:
            raise RefusedError("balance")
        now = self.clock()
        mine = [sms.sent_at for sms in self.sent if sms.phone == phone]
        if mine and now - max(mine) < self.per_phone_interval:
            raise RefusedError("interval")
        day = int(now // 86400)
        if sum(1 for at in mine if int(at // 86400) == day) >= self.per_phone_daily:
            raise RefusedError("daily")

    def accept(
        self,
        provider: Literal["aliyun", "tencent"],
        phone: str,
        sign_name: str,
        template: str,
        params: dict[str, str] | list[str],
        reference: str,
    ) -> SimulatedSms:
        """Record one sent message (after `check`)."""
        if provider == "aliyun":
            message_id = f"{int(self.clock() * 1000)}{uuid.uuid4().int % 10**6:06d}^0"
        else:
            message_id = f"2433:{uuid.uuid4().int % 10**28:028d}"
        sms = SimulatedSms(
            provider, message_id, phone, sign_name, template, params, reference, self.clock()
        )
        self.sent.append(sms)
        if self.balance is not None:
            self.balance -= 1
        return sms
