"""Local-time arithmetic for waits and quiet hours (pure; time zones from the zoneinfo database)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
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
