"""The per-process TTL cache hot paths use (`store.caching`)."""

from __future__ import annotations

from store.caching import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_its_ttl_then_is_gone() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(5.0, monotonic=clock)
    cache.put("a", 1)
    clock.now = 4.9
    assert cache.get("a") == 1
    clock.now = 5.0
    assert cache.get("a") is None


def test_no_ttl_keeps_entries_and_a_per_entry_ttl_overrides() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(None, monotonic=clock)
    cache.put("forever", 1)
    cache.put("brief", 2, ttl=1.0)
    clock.now = 1e9
    assert cache.get("forever") == 1
    assert cache.get("brief") is None


def test_the_oldest_entries_go_first_past_the_bound() -> None:
    cache: TtlCache[int, int] = TtlCache(None, max_entries=3)
    for n in range(5):
        cache.put(n, n)
    assert [cache.get(n) for n in range(5)] == [None, None, 2, 3, 4]
    cache.forget(3)
    assert cache.get(3) is None


async def test_get_or_load_loads_once_per_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(10.0, monotonic=clock)
    loads: list[str] = []

    async def load() -> str:
        loads.append("x")
        return f"v{len(loads)}"

    assert await cache.get_or_load("k", load) == "v1"
    assert await cache.get_or_load("k", load) == "v1"
    clock.now = 10.0
    assert await cache.get_or_load("k", load) == "v2"
    assert loads == ["x", "x"]
