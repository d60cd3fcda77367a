"""Access tokens cached per account, refreshed once for every caller waiting at that moment.

WeCom's `gettoken` and WeChat's `stable_token` both hand out a token valid for `expires_in`
seconds (7200), with a low daily quota of refreshes: a token is kept until `margin` seconds
before it expires (at most half its lifetime), and concurrent callers needing a new one wait for
the one refresh under the account's lock. A caller whose token was refused passes it as `stale`
to get a different one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

Fetch = Callable[[bool], Awaitable[tuple[str, float]]]
"""Fetches a token: called with `force` (the last one was refused), answers (token, lifetime s)."""


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Tokens per key (e.g. base URL, account id and a hash of the secret)."""

    def __init__(self, clock: Callable[[], float], margin: float = 300.0) -> None:
        self._clock = clock
        self._margin = margin
        self._tokens: dict[Hashable, _Token] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    async def get(self, key: Hashable, fetch: Fetch, stale: str | None = None) -> str:
        """A valid token for `key`; with `stale`, a token other than that refused one."""
        cached = self._tokens.get(key)
        if self._usable(cached, stale):
            assert cached is not None
            return cached.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        # Whoever holds the lock refreshes; the callers queued behind it find its token cached.
        async with lock:
            cached = self._tokens.get(key)
            if self._usable(cached, stale):
                assert cached is not None
                return cached.value
            value, lifetime = await fetch(stale is not None)
            margin = min(self._margin, lifetime / 2)
            self._tokens[key] = _Token(value, self._clock() + lifetime - margin)
            return value

    def _usable(self, token: _Token | None, stale: str | None) -> bool:
        return token is not None and token.value != stale and token.expires_at > self._clock()
