"""A customer's timeline: events, deliveries and transitions merged in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.deliveries import Delivery
from domain.enrollments import Transition
from domain.events import Event
from store.database import Store
from store.timeline import TimelineEntry

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
EID = "acme:jrn_1:cus_1"


async def fill(store: Store, customer: str = "cus_1", tenant: str = "acme") -> None:
    """Two events, a delivery and two transitions, with a tie at T0 + 1 min."""
    for n, minutes in enumerate((0, 10)):
        await store.events.insert(
            Event(
                id=f"{customer}-e{n}",
                tenant_id=tenant,
                customer_id=customer,
                type="wecom.contact_added",
                identity={"external_id": customer},
                timestamp=T0 + timedelta(minutes=minutes),
                received_at=T0,
            )
        )
    await store.deliveries.begin(
        Delivery(
            tenant_id=tenant,
            idempotency_key=f"{customer}/welcome/1",
            enrollment_id=EID,
            customer_id=customer,
            journey_id="jrn_1",
            node_id="welcome",
            channel="wecom",
            action="welcome",
            created_at=T0 + timedelta(minutes=1),
            updated_at=T0 + timedelta(minutes=1),
        )
    )
    await store.enrollments.record_transitions(
        [
            Transition(
                tenant_id=tenant,
                enrollment_id=f"{tenant}:jrn_1:{customer}",
                journey_id="jrn_1",
                version=1,
                customer_id=customer,
                seq=seq,
                from_node=None,
                to_node=node,
                label="next",
                at=T0 + timedelta(minutes=minutes),
            )
            for seq, node, minutes in [(0, "entry", 0), (1, "welcome", 1)]
        ]
    )


def describe(entry: TimelineEntry) -> str:
    if entry.event is not None:
        return f"event:{entry.event.id}"
    if entry.delivery is not None:
        return f"delivery:{entry.delivery.node_id}"
    assert entry.transition is not None
    return f"transition:{entry.transition.to_node}"


async def test_the_timeline_merges_three_sources_in_time_order(store: Store) -> None:
    await fill(store)
    await fill(store, customer="cus_2")

    page = await store.timeline.for_customer("acme", "cus_1")

    assert [describe(entry) for entry in page.items] == [
        "event:cus_1-e0",
        "transition:entry",
        "delivery:welcome",
        "transition:welcome",
        "event:cus_1-e1",
    ]
    assert [entry.at for entry in page.items] == sorted(entry.at for entry in page.items)
    assert page.next_cursor is None


async def test_timeline_pages_cover_every_entry_once(store: Store) -> None:
    await fill(store)
    whole = await store.timeline.for_customer("acme", "cus_1")

    seen: list[str] = []
    cursor = None
    while True:
        page = await store.timeline.for_customer("acme", "cus_1", limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [describe(entry) for entry in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [describe(entry) for entry in whole.items]


async def test_the_timeline_shows_nothing_of_another_tenant(store: Store) -> None:
    await fill(store, tenant="other")

    page = await store.timeline.for_customer("acme", "cus_1")

    assert page.items == []


async def test_entries_at_the_same_instant_page_one_by_one_without_loss(store: Store) -> None:
    """Ties across all three kinds at one instant: each branch resumes after the cursor alone."""
    for n in range(3):
        await store.events.insert(
            Event(
                id=f"e{n}",
                tenant_id="acme",
                customer_id="cus_1",
                type="wecom.contact_added",
                identity={"external_id": "cus_1"},
                timestamp=T0,
                received_at=T0,
            )
        )
        await store.deliveries.begin(
            Delivery(
                tenant_id="acme",
                idempotency_key=f"k{n}",
                enrollment_id=EID,
                customer_id="cus_1",
                journey_id="jrn_1",
                node_id=f"n{n}",
                channel="wecom",
                action="welcome",
                created_at=T0,
                updated_at=T0,
            )
        )
    await store.enrollments.record_transitions(
        [
            Transition(
                tenant_id="acme",
                enrollment_id=EID,
                journey_id="jrn_1",
                version=1,
                customer_id="cus_1",
                seq=seq,
                to_node=f"t{seq}",
                label="next",
                at=T0,
            )
            for seq in range(3)
        ]
    )
    whole = await store.timeline.for_customer("acme", "cus_1")
    assert [entry.kind for entry in whole.items] == ["delivery"] * 3 + ["event"] * 3 + [
        "transition"
    ] * 3

    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = await store.timeline.for_customer("acme", "cus_1", limit=1, cursor=cursor)
        seen += [describe(entry) for entry in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [describe(entry) for entry in whole.items]


async def test_the_timeline_reads_only_the_asked_kinds_and_several_customer_ids(
    store: Store,
) -> None:
    await fill(store)
    await fill(store, customer="cus_2")

    page = await store.timeline.for_customer(
        "acme", ["cus_1", "cus_2"], kinds=["delivery", "transition"]
    )

    assert sorted(describe(entry) for entry in page.items) == sorted(
        ["delivery:welcome"] * 2 + ["transition:entry"] * 2 + ["transition:welcome"] * 2
    )
    assert await store.timeline.for_customer("acme", "cus_1", kinds=[]) == type(page)()
