"""Stored events: idempotent ingest and per-customer reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.events import Event
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def event(
    event_id: str, at: datetime, *, customer: str = "cus_1", type: str = "order.paid"
) -> Event:
    return Event(
        id=event_id,
        tenant_id="acme",
        customer_id=customer,
        type=type,
        identity={"unionid": "u-1"},
        timestamp=at,
        properties={"order": {"total": 129.0, "items": ["latte"]}},
        received_at=at + timedelta(seconds=1),
    )


async def test_an_event_is_stored_once_per_id(store: Store) -> None:
    assert await store.events.insert(event("e-1", T0))
    assert not await store.events.insert(event("e-1", T0 + timedelta(hours=1)))

    stored = await store.events.get("acme", "e-1")
    assert stored == event("e-1", T0)
    page = await store.events.list_for_customer("acme", "cus_1")
    assert [e.id for e in page.items] == ["e-1"]


async def test_the_same_event_id_in_another_tenant_is_another_event(store: Store) -> None:
    assert await store.events.insert(event("e-1", T0))
    assert await store.events.insert(event("e-1", T0).model_copy(update={"tenant_id": "other"}))


async def test_customer_events_are_listed_in_time_order_across_pages(store: Store) -> None:
    times = [T0 + timedelta(minutes=m) for m in (5, 1, 3, 3, 0, 4, 2)]
    for n, at in enumerate(times):
        await store.events.insert(event(f"e-{n}", at))
    await store.events.insert(event("other-customer", T0, customer="cus_2"))

    seen: list[Event] = []
    cursor = None
    while True:
        page = await store.events.list_for_customer("acme", "cus_1", limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [e.timestamp for e in seen] == sorted(times)
    assert len({e.id for e in seen}) == len(times)


async def test_last_event_for_a_customer_is_the_latest_of_that_type(store: Store) -> None:
    await store.events.insert(event("paid-1", T0))
    await store.events.insert(event("paid-2", T0 + timedelta(days=2)))
    await store.events.insert(event("joined", T0 + timedelta(days=3), type="wecom.group_joined"))

    last = await store.events.last_for_customer("acme", "cus_1")
    last_paid = await store.events.last_for_customer("acme", "cus_1", "order.paid")

    assert last is not None and last.id == "joined"
    assert last_paid is not None and last_paid.id == "paid-2"
    assert await store.events.last_for_customer("acme", "cus_9") is None


async def test_a_new_event_is_unrouted_until_marked_routed(store: Store) -> None:
    await store.events.insert(event("e-1", T0))

    stored = await store.events.find("acme", "e-1")
    assert stored is not None
    assert (stored.event, stored.pending, stored.routed_at) == (event("e-1", T0), True, None)

    assert await store.events.mark_routed("acme", ["e-1"], T0 + timedelta(minutes=1)) == 1
    assert await store.events.mark_routed("acme", ["e-1"], T0 + timedelta(minutes=2)) == 0

    routed = await store.events.find("acme", "e-1")
    assert routed is not None
    assert (routed.pending, routed.routed_at) == (False, T0 + timedelta(minutes=1))
    assert await store.events.get("acme", "e-1") == event("e-1", T0)


async def test_unrouted_events_of_every_tenant_are_listed_oldest_first(store: Store) -> None:
    received = [("e-3", 3, "acme"), ("e-1", 1, "acme"), ("o-2", 2, "other"), ("e-9", 9, "acme")]
    for event_id, minute, tenant in received:
        at = T0 + timedelta(minutes=minute)
        stored = event(event_id, at).model_copy(update={"tenant_id": tenant, "received_at": at})
        await store.events.insert(stored)
    await store.events.insert(event("routed", T0))
    await store.events.mark_routed("acme", ["routed", "e-3"], T0)
    await store.events.mark_routed("other", ["e-1"], T0)  # another tenant's id: no effect

    found = await store.events.unrouted(T0 + timedelta(minutes=5), limit=10)
    assert [(s.event.tenant_id, s.event.id) for s in found] == [("acme", "e-1"), ("other", "o-2")]
    first = await store.events.unrouted(T0 + timedelta(minutes=10), limit=1)
    assert [s.event.id for s in first] == ["e-1"]


async def test_events_stored_before_routing_was_tracked_count_as_routed(store: Store) -> None:
    # An older release stored neither `routed_at` nor the pending marker.
    await store.db["events"].insert_one(
        {**event("legacy", T0).model_dump(exclude={"id"}), "event_id": "legacy"}
    )

    assert await store.events.unrouted(T0 + timedelta(days=1), limit=10) == []
    stored = await store.events.find("acme", "legacy")
    assert stored is not None and not stored.pending


async def test_the_unrouted_sweep_is_served_by_its_partial_index(store: Store) -> None:
    await store.events.insert(event("e-1", T0))
    info = await store.db["events"].index_information()
    assert info["unrouted_by_received"]["partialFilterExpression"] == {"route_pending": True}

    # the query `unrouted` runs
    query = {"route_pending": True, "received_at": {"$lt": T0 + timedelta(days=1)}}
    plan = await store.db["events"].find(query).sort([("received_at", 1), ("_id", 1)]).explain()
    assert "unrouted_by_received" in str(plan["queryPlanner"]["winningPlan"])


async def test_due_events_skip_those_behind_a_backoff_of_their_customer_and_parked_ones(
    store: Store,
) -> None:
    def received(event_id: str, minute: int, customer: str) -> Event:
        at = T0 + timedelta(minutes=minute)
        return event(event_id, at, customer=customer).model_copy(update={"received_at": at})

    for event_id, minute, customer in [
        ("a0", 0, "cus_a"),
        ("a1", 1, "cus_a"),
        ("a2", 2, "cus_a"),
        ("a3", 3, "cus_a"),
        ("p1", 4, "cus_p"),
        ("p2", 5, "cus_p"),
        ("b1", 6, "cus_b"),
    ]:
        await store.events.insert(received(event_id, minute, customer))
    now = T0 + timedelta(minutes=10)
    waiting = await store.events.record_failure(
        "acme", "a1", "RPCError", now, lambda attempts: timedelta(minutes=5)
    )
    assert waiting is not None and waiting.retry_at == now + timedelta(minutes=5)
    parked = await store.events.record_failure("acme", "p1", "NotFound", now, lambda n: None)
    assert parked is not None and parked.dead_at == now and not parked.pending

    due = await store.events.due("acme", now, now, limit=3)
    # a1 waits; a2, a3 wait behind it (not taking b1's room); p1 is parked, so p2 goes on.
    assert [item.event.id for item in due] == ["a0", "p2", "b1"]
    assert await store.events.tenants_due(now, now, limit=10) == ["acme"]

    later = now + timedelta(minutes=6)
    assert [item.event.id for item in await store.events.due("acme", later, later, 10)] == [
        "a0",
        "a1",
        "a2",
        "a3",
        "p2",
        "b1",
    ]
    dead = await store.dead_letters.list("acme")
    assert [(item.event.id, item.attempts, item.last_error) for item in dead.items] == [
        ("p1", 1, "NotFound")
    ]
