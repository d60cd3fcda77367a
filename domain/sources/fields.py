"""Reading the loosely typed fields platforms push: ids that come as numbers or strings, times in
Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8))


def text(value: Any) -> str | None:
    """An id or a word as text (numbers too), stripped; None for anything else or blank."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        stripped = str(value).strip()
        return stripped or None
    return None


def beijing_time(value: Any, fallback: datetime) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` in Beijing time, or unix seconds or milliseconds, as a UTC time;
    `fallback` when it is none of those."""
    found = text(value)
    if found is None:
        return fallback
    if found.isdigit():
        number = int(found)
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)
    try:
        parsed = datetime.strptime(found, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return fallback
    return parsed.replace(tzinfo=BEIJING).astimezone(UTC)
