"""The clock services are given, so tests can move time (`api.services.ports` shares it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)
