"""Customer merges cut short by a crash: no identity lost, and the merge is completed later.

The crash is a MongoDB connection lost after the n-th write of the merging request: the
repository that merges runs over a database whose collections stop taking writes after a budget
(every write before it reaches the real server), then the test carries on with a healthy one.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from domain.events import Event
from store.customers import CustomerRepository
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
PHONE, UNIONID, EMAIL = "13800138000", "u-young", "young@example.com"
_WRITES = frozenset(
    {"insert_one", "update_one", "update_many", "find_one_and_update", "replace_one"}
)


class _Budget:
    def __init__(self, writes: int) -> None:
        self.left = writes
        self.crashed = False

    def spend(self) -> None:
        if self.left == 0:
            self.crashed = True
            raise AutoReconnect("connection lost (injected)")
        self.left -= 1


class _CrashingCollection:
    """A real collection whose writes fail once the budget is spent."""

    def __init__(self, real: Any, budget: _Budget) -> None:
        self._real = real
        self._budget = budget

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in _WRITES:
            return attr

        async def write(*args: Any, **kwargs: Any) -> Any:
            self._budget.spend()
            return await attr(*args, **kwargs)

        return write


class _CrashingDatabase:
    def __init__(self, real: AsyncDatabase[Any], budget: _Budget) -> None:
        self._real = real
        self._budget = budget

    @property
    def write_concern(self) -> Any:
        return self._real.write_concern

    def get_collection(self, name: str, **kwargs: Any) -> Any:
        return _CrashingCollection(self._real.get_collection(name, **kwargs), self._budget)


async def _two_customers(store: Store) -> tuple[str, str]:
    older, _ = await store.customers.resolve("acme", {"phone": PHONE}, T0)
    younger, _ = await store.customers.resolve(
        "acme", {"unionid": UNIONID, "email": EMAIL}, T0 + timedelta(hours=1)
    )
    await store.customers.update_profile("acme", younger.id, T0, add_tags=["source:douyin"])
    await store.events.insert(
        Event(
            id="e-young",
            tenant_id="acme",
            customer_id=younger.id,
            type="order.paid",
            identity={"unionid": UNIONID},
            timestamp=T0,
            received_at=T0,
        )
    )
    return older.id, younger.id


async def _merge_crashing_after(mongo_db: AsyncDatabase[Any], writes: int) -> bool:
    """Merge the two customers with a request whose connection is lost after `writes` writes;
    whether it was."""
    budget = _Budget(writes)
    crashing = CustomerRepository(_CrashingDatabase(mongo_db, budget))  # type: ignore[arg-type]
    with contextlib.suppress(AutoReconnect):
        await crashing.resolve(
            "acme", {"phone": PHONE, "unionid": UNIONID}, T0 + timedelta(hours=2)
        )
    return budget.crashed


async def _assert_merged(store: Store, older: str, younger: str) -> None:
    survivor = await store.customers.get("acme", older, follow_merges=False)
    assert {(i.kind, i.value) for i in survivor.identities} == {
        ("phone", PHONE),
        ("unionid", UNIONID),
        ("email", EMAIL),
    }
    assert "source:douyin" in survivor.tags
    absorbed = await store.customers.get("acme", younger, follow_merges=False)
    assert absorbed.merged_into == older
    assert absorbed.identities == []
    event = await store.events.get("acme", "e-young")
    assert event is not None and event.customer_id == older


@pytest.mark.parametrize("writes", range(1, 10))
async def test_a_merge_cut_short_after_any_write_loses_no_identity_and_the_next_event_finishes_it(
    store: Store, mongo_db: AsyncDatabase[Any], writes: int
) -> None:
    older, younger = await _two_customers(store)

    crashed = await _merge_crashing_after(mongo_db, writes)

    assert crashed
    # every identity of the absorbed customer still leads to one customer: the survivor
    for kind, value in (("phone", PHONE), ("unionid", UNIONID), ("email", EMAIL)):
        found = await store.customers.get_by_identity("acme", kind, value)
        assert found is not None and found.id == older, (kind, found)
    # the next events naming the absorbed customer's identities, one at a time
    for n, identity in enumerate(({"email": EMAIL}, {"unionid": UNIONID}), start=3):
        again, created = await store.customers.resolve("acme", identity, T0 + timedelta(hours=n))
        assert not created
        assert again.id == older
    await _assert_merged(store, older, younger)


@pytest.mark.parametrize("writes", [1, 3, 5])
async def test_the_start_up_sweep_finishes_a_merge_a_crash_left_half_done(
    store: Store, mongo_db: AsyncDatabase[Any], writes: int
) -> None:
    older, younger = await _two_customers(store)
    assert await _merge_crashing_after(mongo_db, writes)

    finished = await store.customers.finish_merges(T0 + timedelta(hours=3))

    assert finished == 1
    await _assert_merged(store, older, younger)
    assert await store.customers.finish_merges(T0 + timedelta(hours=4)) == 0
