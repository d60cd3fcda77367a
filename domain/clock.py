"""Local-time arithmetic for waits and quiet hours (pure; time zones from the zoneinfo database)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.journey import LocalTime, QuietHours


def next_local_time(after: datetime, spec: LocalTime, timezone: str) -> datetime:
    """The first instant at or after `after` whose local wall-clock time matches `spec` (UTC)."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(8 + 1):
        candidate = datetime.combine(day, time(spec.hour, spec.minute), tzinfo=zone)
        weekday_ok = not spec.weekdays or candidate.isoweekday() in spec.weekdays
        if weekday_ok and candidate >= local:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError(f"no local time matches {spec!r}")  # unreachable with validated weekdays


def in_quiet_hours(at: datetime, quiet: QuietHours, timezone: str) -> bool:
    """Whether `at` falls inside the quiet window (which may wrap past midnight)."""
    hour = at.astimezone(ZoneInfo(timezone)).hour
    if quiet.start == quiet.end:
        return False
    if quiet.start > quiet.end:
        return hour >= quiet.start or hour < quiet.end
    return quiet.start <= hour < quiet.end


def quiet_hours_end(at: datetime, quiet: QuietHours, timezone: str) -> datetime:
    """When the quiet window containing `at` ends (UTC)."""
    return next_local_time(at, LocalTime(hour=quiet.end), timezone)


def quiet_until(at: datetime, quiet: QuietHours, timezone: str) -> datetime | None:
    """When the quiet window containing `at` ends (UTC), or None when `at` is not in one."""
    return quiet_hours_end(at, quiet, timezone) if in_quiet_hours(at, quiet, timezone) else None


def _customer_moment(value: Any, zone: ZoneInfo) -> datetime | None:
    """The local moment of an attribute value, or None when it is not an ISO 8601 date or
    date-time (a bare date is the start of its day)."""
    if not isinstance(value, str) or not 8 <= len(value) <= 40:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(0, 0), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return local


def _on_day(moment: datetime, year: int) -> datetime:
    """`moment`'s month, day and wall-clock time in `year` (29 February → 28 February)."""
    day = moment.day
    if moment.month == 2 and day == 29 and not calendar.isleap(year):
        day = 28
    naive = moment.replace(tzinfo=None, year=year, day=day)
    return naive.replace(tzinfo=moment.tzinfo)


def customer_date_target(
    value: Any,
    *,
    now: datetime,
    timezone: str,
    offset: timedelta = timedelta(0),
    at: LocalTime | None = None,
    yearly: bool = False,
) -> datetime | None:
    """When a wait on a customer's date ends (UTC), or None when `value` is no date.

    The date (at `at`'s wall-clock time when given, else at the start of a bare date's day or at
    a date-time's own time), moved by `offset`. `yearly`: the first anniversary of it whose
    moment is not before `now`. Otherwise the moment itself, which may be in the past.
    """
    zone = ZoneInfo(timezone)
    moment = _customer_moment(value, zone)
    if moment is None:
        return None
    if at is not None:
        moment = moment.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if not yearly:
        return (moment + offset).astimezone(UTC)
    year = now.astimezone(zone).year - 1
    for candidate_year in range(year - 2, year + 4):
        local = _on_day(moment, candidate_year)
        # Wall-clock arithmetic in the zone, then to UTC (a DST change keeps the local time).
        target = (local.replace(tzinfo=None) + offset).replace(tzinfo=zone).astimezone(UTC)
        if target >= now:
            return target
    return None  # unreachable for |offset| under a year
