"""The tenant's messaging policy: which caps a send counts against, their calendar periods in
the policy's time zone, and the tenant's quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from domain.journey import QuietHours
from domain.messaging import (
    FrequencyCap,
    Hold,
    MessagingPolicy,
    period_of,
    quiet_hold,
    when_full,
)

SHANGHAI = "Asia/Shanghai"
# Sunday 2026-03-01 23:30 in Shanghai
AT = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "key", "ends"),
    [
        ("day", "day:2026-03-01", datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
        ("week", "week:2026-02-23", datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
        ("month", "month:2026-03-01", datetime(2026, 3, 31, 16, 0, tzinfo=UTC)),
    ],
)
def test_periods_are_calendar_periods_in_the_policys_zone(
    period: str, key: str, ends: datetime
) -> None:
    cap = FrequencyCap(id="c", limit=1, period=period)  # type: ignore[arg-type]

    assert period_of(cap, AT, SHANGHAI) == (key, ends)


def test_december_rolls_into_january() -> None:
    cap = FrequencyCap(id="c", limit=1, period="month")
    december = datetime(2026, 12, 15, tzinfo=UTC)

    assert period_of(cap, december, "UTC") == ("month:2026-12-01", datetime(2027, 1, 1, tzinfo=UTC))


def test_a_cap_counts_its_channels_or_all() -> None:
    policy = MessagingPolicy(
        caps=[
            FrequencyCap(id="wecom_daily", channels=["wecom"], limit=2, period="day"),
            FrequencyCap(id="weekly", limit=5, period="week"),
        ]
    )

    assert [c.id for c in policy.caps_for("wecom")] == ["wecom_daily", "weekly"]
    assert [c.id for c in policy.caps_for("sms")] == ["weekly"]


def test_the_tenants_quiet_hours_wrap_past_midnight() -> None:
    policy = MessagingPolicy(quiet_hours=QuietHours(start=22, end=8))

    assert policy.quiet_until(AT) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 local
    assert policy.quiet_until(datetime(2026, 3, 2, 4, 0, tzinfo=UTC)) is None  # 12:00 local
    assert MessagingPolicy().quiet_until(AT) is None


def test_a_policy_names_what_is_wrong() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        MessagingPolicy(
            timezone="Mars/Olympus",
            caps=[
                FrequencyCap(id="a", limit=1, period="day"),
                FrequencyCap(id="a", limit=2, period="week"),
            ],
        )

    fields = {error["loc"][0] for error in caught.value.errors()}
    assert fields == {"timezone", "caps"}


def test_the_gates_decisions_hold_for_quiet_hours_and_for_a_full_cap_that_waits() -> None:
    # What the channel activity (`activities.gates`) and the simulator both decide with.
    policy = MessagingPolicy(timezone=SHANGHAI, quiet_hours=QuietHours(start=21, end=9))
    assert quiet_hold(policy, True, AT) == Hold(34_200.0, "the tenant's quiet hours")
    assert quiet_hold(policy, False, AT) is None
    assert quiet_hold(MessagingPolicy(), True, AT) is None
    cap = FrequencyCap(id="daily", limit=2, period="day")
    _, ends = period_of(cap, AT, SHANGHAI)
    assert when_full(cap, "wait", AT, ends) == Hold(
        1800.0, "frequency cap daily (2 per day) reached"
    )
    assert when_full(cap, "skip", AT, ends) is None
    assert when_full(cap, "wait", ends, ends) == Hold(
        1.0, "frequency cap daily (2 per day) reached"
    )
