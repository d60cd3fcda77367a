"""A tenant's messaging policy: frequency caps across journeys and channels, and quiet hours
beside each journey's own.

A cap counts the sends a customer gets on its channels (all channels when it names none) per
calendar period in the policy's time zone (`day`, `week` from Monday, `month`): `≤ 2 WeCom
touches a day` is `FrequencyCap(id="wecom_daily", channels=["wecom"], limit=2, period="day")`.
A send counts against every cap that applies to it, and only if every one has room (the store
reserves in each atomically and gives back what it took when one is full). What a capped action
does is the action's choice (`ActionNode.when_capped`): `skip` (its `failed` edge, with the
reason) or `wait` (until the fullest cap's period ends, then try again). The tenant's quiet hours
hold every action that respects quiet hours, whatever the journey says, until they end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.clock import quiet_until
from domain.journey import QuietHours

MIN_HOLD_SECONDS = 1.0
"""The shortest hold: a send held for less is tried again after this long."""

POLICY_KIND = "messaging"
"""The `store.channel_settings` kind a tenant's `MessagingPolicy` is kept under."""

CapPeriod = Literal["day", "week", "month"]
MAX_CAPS = 20


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FrequencyCap(_Model):
    """At most `limit` sends per customer per `period` on `channels` (all when empty)."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    channels: list[str] = Field(default_factory=list, max_length=20)
    limit: int = Field(ge=1, le=1000)
    period: CapPeriod

    def applies_to(self, channel: str) -> bool:
        """Whether a send on `channel` counts against this cap."""
        return not self.channels or channel in self.channels


class MessagingPolicy(_Model):
    """A tenant's caps and quiet hours (no policy: no caps, no tenant quiet hours)."""

    timezone: str = "Asia/Shanghai"
    quiet_hours: QuietHours | None = None
    caps: list[FrequencyCap] = Field(default_factory=list, max_length=MAX_CAPS)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'Asia/Shanghai')") from exc
        return value

    @field_validator("caps")
    @classmethod
    def _distinct(cls, value: list[FrequencyCap]) -> list[FrequencyCap]:
        ids = [cap.id for cap in value]
        if len(set(ids)) != len(ids):
            raise ValueError("cap ids must be distinct")
        return value

    def caps_for(self, channel: str) -> list[FrequencyCap]:
        """The caps a send on `channel` counts against."""
        return [cap for cap in self.caps if cap.applies_to(channel)]

    def quiet_until(self, now: datetime) -> datetime | None:
        """When the tenant's quiet hours around `now` end, or None outside them."""
        if self.quiet_hours is None:
            return None
        return quiet_until(now, self.quiet_hours, self.timezone)


def period_of(cap: FrequencyCap, at: datetime, timezone: str) -> tuple[str, datetime]:
    """(the period's key, when it ends in UTC) of the period `at` falls in."""
    zone = ZoneInfo(timezone)
    day = at.astimezone(zone).date()
    if cap.period == "day":
        start, end = day, day + timedelta(days=1)
    elif cap.period == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    ends = datetime.combine(end, time(0, 0), tzinfo=zone).astimezone(UTC)
    return f"{cap.period}:{start.isoformat()}", ends


@dataclass(frozen=True, slots=True)
class Hold:
    """A send held: try it again (same idempotency key) after `seconds`."""

    seconds: float
    reason: str


def hold_until(until: datetime, now: datetime, reason: str) -> Hold:
    """The hold of a send at `now` that may go at `until` (never shorter than a second)."""
    return Hold(max(MIN_HOLD_SECONDS, (until - now).total_seconds()), reason)


QUIET_HOURS_REASON = "the tenant's quiet hours"


def quiet_hold(policy: MessagingPolicy, respect_quiet_hours: bool, now: datetime) -> Hold | None:
    """The hold the tenant's quiet hours put on a send at `now`, if any (the first gate)."""
    if not respect_quiet_hours:
        return None
    until = policy.quiet_until(now)
    return None if until is None else hold_until(until, now, QUIET_HOURS_REASON)


def cap_reason(cap: FrequencyCap) -> str:
    """Why a send was held or skipped by the full `cap`."""
    return f"frequency cap {cap.id} ({cap.limit} per {cap.period}) reached"


def when_full(cap: FrequencyCap, when_capped: str, now: datetime, ends: datetime) -> Hold | None:
    """What a send does when `cap`'s period (ending at `ends`) has no room: held until then
    (`when_capped` = `wait`), or None: skipped (its action ends on its `failed` edge)."""
    if when_capped == "wait":
        return hold_until(ends, now, cap_reason(cap))
    return None
