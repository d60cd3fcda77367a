"""A small per-process cache for reads that hot paths repeat: entries live `ttl` seconds (or for
good, `ttl=None`), and the cache keeps at most `max_entries`, dropping the oldest first.

Nothing invalidates an entry across processes: what may change is cached with a TTL short enough
that every replica sees a change within it; what cannot change (a published journey version's
definition) is cached for good. See the users' docstrings for each choice.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values by key, each until its time to live runs out (module docstring)."""

    def __init__(
        self,
        ttl: float | None,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._monotonic = monotonic
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        """The live value of `key`, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._monotonic():
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Keep `value` for `ttl` seconds (the cache's own TTL when None)."""
        ttl = self._ttl if ttl is None else ttl
        expires = float("inf") if ttl is None else self._monotonic() + ttl
        self._entries.pop(key, None)
        self._entries[key] = (expires, value)
        while len(self._entries) > self._max:
            del self._entries[next(iter(self._entries))]

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or the loaded one (then cached). Concurrent misses each load."""
        found = self.get(key)
        if found is not None:
            return found
        value = await load()
        self.put(key, value)
        return value
