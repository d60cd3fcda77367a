"""WeCom's frequency limits, kept on our side: per corp, per API, per minute and per hour.

WeCom answers errcode 45009 once a corp calls one API more than 10,000 times a minute or
150,000 times an hour, then blocks it for the rest of the window. Counting first keeps us under
the limit: each window is a ring of slots (seconds for the minute, minutes for the hour); a call
is admitted when every window's count is below its limit. Counting a slot in full until it has
left the window errs on the safe side. A short wait is taken in place; a longer one is handed
back as `TransientChannelError(retry_after=…)`, so Temporal retries later instead of holding a
worker slot.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from connectors.errors import TransientChannelError


@dataclass
class _Window:
    limit: int
    slot_seconds: float
    slots: int
    counts: deque[tuple[int, int]] = field(default_factory=deque)  # (slot index, calls)
    total: int = 0

    def _expire(self, now: float) -> None:
        oldest = math.floor(now / self.slot_seconds) - self.slots + 1
        while self.counts and self.counts[0][0] < oldest:
            self.total -= self.counts.popleft()[1]

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self._expire(now)
        if self.total < self.limit:
            return 0.0
        freed = 0
        for index, calls in self.counts:
            freed += calls
            if self.total - freed < self.limit:
                return max(0.0, (index + self.slots) * self.slot_seconds - now)
        return self.slots * self.slot_seconds  # pragma: no cover - total > 0 means slots exist

    def add(self, now: float) -> None:
        index = math.floor(now / self.slot_seconds)
        if self.counts and self.counts[-1][0] == index:
            self.counts[-1] = (index, self.counts[-1][1] + 1)
        else:
            self.counts.append((index, 1))
        self.total += 1


@dataclass
class _Budget:
    windows: tuple[_Window, ...]
    blocked_until: float = 0.0


class RateLimiter:
    """Admits calls per (corp, api) under `per_minute` and `per_hour`.

    `max_wait` is the longest delay taken in place; `clock` and `sleep` are injectable so tests
    run without wall-clock time.
    """

    def __init__(
        self,
        *,
        per_minute: int = 10_000,
        per_hour: int = 150_000,
        max_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_minute < 1 or per_hour < 1:
            raise ValueError("limits must be at least 1")
        self._per_minute = per_minute
        self._per_hour = per_hour
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._budgets: dict[tuple[str, str], _Budget] = {}

    def _budget(self, corp_id: str, api: str) -> _Budget:
        budget = self._budgets.get((corp_id, api))
        if budget is None:
            budget = _Budget(
                (_Window(self._per_minute, 1.0, 60), _Window(self._per_hour, 60.0, 60))
            )
            self._budgets[(corp_id, api)] = budget
        return budget

    async def acquire(self, corp_id: str, api: str) -> None:
        """Count one call, waiting up to `max_wait`; `TransientChannelError` beyond that."""
        budget = self._budget(corp_id, api)
        while True:
            now = self._clock()
            delay = max(
                budget.blocked_until - now, *(window.wait(now) for window in budget.windows)
            )
            if delay <= 0:
                # No await between the check and the count: concurrent callers cannot overshoot.
                for window in budget.windows:
                    window.add(now)
                return
            if delay > self._max_wait:
                raise TransientChannelError(
                    f"wecom {api} is over its frequency limit for this corp; retry in "
                    f"{math.ceil(delay)} s",
                    retry_after=float(math.ceil(delay)),
                )
            await self._sleep(delay)

    def block(self, corp_id: str, api: str, seconds: float) -> None:
        """Refuse calls to `api` for `seconds` (WeCom answered 45009: it blocks the window)."""
        budget = self._budget(corp_id, api)
        budget.blocked_until = max(budget.blocked_until, self._clock() + seconds)
