"""Record ids: a short prefix, then a time-ordered, random-suffixed hex string.

Ids sort by creation time: 12 hex digits of milliseconds since the epoch, then a 4-digit counter
that orders ids made in the same millisecond by this process, then 12 random hex digits. So `_id`
order is a stable, meaningful page order. Ids contain no `:` and can be parts of workflow ids.
"""

from __future__ import annotations

import secrets
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id(prefix: str) -> str:
    """`{prefix}_{ms:012x}{counter:04x}{random:012x}`."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            # Same millisecond (or the clock stepped back): keep the order with the counter.
            ms = _last_ms
            _counter = (_counter + 1) & 0xFFFF
        else:
            _last_ms, _counter = ms, 0
        counter = _counter
    return f"{prefix}_{ms:012x}{counter:04x}{secrets.token_hex(6)}"
