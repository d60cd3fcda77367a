"""Enrollment projections and transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.enrollments import Enrollment, Transition, WaitInfo, enrollment_id
from store.database import Store
from tests.integration.support import EID, enrollment_record, transition_record

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def projection(seq: int, node: str, **changes: Any) -> Enrollment:
    return enrollment_record(node, started=T0, seq=seq, **changes)


def transition(seq: int, to_node: str, enrollment: str = EID) -> Transition:
    return transition_record(
        seq,
        to_node,
        T0 + timedelta(minutes=seq),
        enrollment_id=enrollment,
        from_node=None if seq == 0 else f"n{seq - 1}",
    )


async def test_the_projection_never_moves_backwards(store: Store) -> None:
    waiting = projection(
        3,
        "wait_group",
        path=["entry", "welcome", "wait_group"],
        wait=WaitInfo(kind="event", until=T0 + timedelta(days=2), event_type="wecom.group_joined"),
    )
    assert await store.enrollments.upsert_projection(projection(1, "entry"))
    assert await store.enrollments.upsert_projection(waiting)

    assert not await store.enrollments.upsert_projection(projection(2, "welcome"))
    assert not await store.enrollments.upsert_projection(projection(3, "other"))
    assert await store.enrollments.get("acme", EID) == waiting


async def test_a_newer_projection_replaces_the_stored_one(store: Store) -> None:
    await store.enrollments.upsert_projection(projection(1, "entry"))
    done = projection(7, "goal", status="converted", goal_id="goal", converted_at=T0, ended_at=T0)

    assert await store.enrollments.upsert_projection(done)
    assert await store.enrollments.get("acme", EID) == done


async def test_transitions_are_inserted_once(store: Store) -> None:
    first = await store.enrollments.record_transitions(
        [transition(0, "entry"), transition(1, "welcome")]
    )
    replayed = await store.enrollments.record_transitions(
        [transition(0, "entry"), transition(1, "welcome"), transition(2, "wait")]
    )
    again = await store.enrollments.record_transitions([transition(2, "wait")])

    assert (first, replayed, again) == (2, 1, 0)
    page = await store.enrollments.transitions_for_enrollment("acme", EID)
    assert [t.to_node for t in page.items] == ["entry", "welcome", "wait"]
    assert [t.seq for t in page.items] == [0, 1, 2]


async def test_transitions_page_in_step_order(store: Store) -> None:
    await store.enrollments.record_transitions([transition(n, f"n{n}") for n in range(5, -1, -1)])

    first = await store.enrollments.transitions_for_enrollment("acme", EID, limit=4)
    rest = await store.enrollments.transitions_for_enrollment(
        "acme", EID, limit=4, cursor=first.next_cursor
    )

    assert [t.seq for t in first.items + rest.items] == list(range(6))
    assert rest.next_cursor is None


async def test_running_enrollments_of_a_customer_are_active_or_paused(store: Store) -> None:
    for journey, status in [("j1", "active"), ("j2", "paused"), ("j3", "exited")]:
        await store.enrollments.upsert_projection(
            projection(1, "n").model_copy(
                update={
                    "id": enrollment_id("acme", journey, "cus_1"),
                    "journey_id": journey,
                    "status": status,
                }
            )
        )

    running = await store.enrollments.running_for_customer("acme", "cus_1")

    assert sorted(e.journey_id for e in running) == ["j1", "j2"]


async def test_enrollments_are_listed_by_journey_node_and_status(store: Store) -> None:
    for n in range(6):
        await store.enrollments.upsert_projection(
            projection(1, "wait" if n % 2 else "welcome").model_copy(
                update={
                    "id": enrollment_id("acme", "jrn_1", f"cus_{n}"),
                    "customer_id": f"cus_{n}",
                    "started_at": T0 + timedelta(minutes=n),
                    "status": "exited" if n == 5 else "active",
                }
            )
        )

    waiting = await store.enrollments.list("acme", journey_id="jrn_1", node="wait")
    active = await store.enrollments.list("acme", status=["active"], limit=2)
    rest = await store.enrollments.list(
        "acme", status=["active"], limit=2, cursor=active.next_cursor
    )
    one = await store.enrollments.list("acme", customer_id="cus_4", version=1)

    assert [e.customer_id for e in waiting.items] == ["cus_1", "cus_3", "cus_5"]
    assert [e.customer_id for e in active.items + rest.items] == [f"cus_{n}" for n in range(4)]
    assert [e.customer_id for e in one.items] == ["cus_4"]


async def test_running_enrollments_of_a_merged_customer_follow_the_survivor(store: Store) -> None:
    older, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    younger, _ = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)
    await store.enrollments.upsert_projection(
        projection(1, "wait").model_copy(
            update={"id": enrollment_id("acme", "jrn_1", younger.id), "customer_id": younger.id}
        )
    )
    await store.customers.resolve("acme", {"unionid": "u-1", "phone": "13800138000"}, T0)

    running = await store.enrollments.running_for_customer("acme", older.id)

    assert [e.customer_id for e in running] == [younger.id]


async def test_first_pages_for_many_customers_come_from_one_query_and_resume_with_list(
    store: Store,
) -> None:
    for customer in ("cus_1", "cus_2"):
        for n in range(3):
            await store.enrollments.upsert_projection(
                projection(1, "wait").model_copy(
                    update={
                        "id": f"acme:jrn_{n}:{customer}",
                        "journey_id": f"jrn_{n}",
                        "customer_id": customer,
                        "started_at": T0 + timedelta(minutes=n),
                        "status": "exited" if n == 1 else "active",
                    }
                )
            )

    pages = await store.enrollments.first_pages_for_customers(
        "acme", ["cus_1", "cus_2", "cus_none"], limit=2
    )
    active = await store.enrollments.first_pages_for_customers(
        "acme", ["cus_1"], statuses=["active"], limit=5
    )
    other_tenant = await store.enrollments.first_pages_for_customers("other", ["cus_1"], limit=5)

    assert [e.journey_id for e in pages["cus_1"].items] == ["jrn_0", "jrn_1"]
    assert [e.journey_id for e in pages["cus_2"].items] == ["jrn_0", "jrn_1"]
    assert pages["cus_none"].items == [] and pages["cus_none"].next_cursor is None
    assert pages["cus_1"].cursors[-1] == pages["cus_1"].next_cursor
    rest = await store.enrollments.list(
        "acme", customer_id="cus_1", cursor=pages["cus_1"].next_cursor, limit=2
    )
    assert [e.journey_id for e in rest.items] == ["jrn_2"]
    assert [e.journey_id for e in active["cus_1"].items] == ["jrn_0", "jrn_2"]
    assert active["cus_1"].next_cursor is None
    assert other_tenant["cus_1"].items == []


async def test_enrollments_are_counted_with_the_filters_of_list(store: Store) -> None:
    await store.enrollments.upsert_projection(projection(1, "wait"))
    await store.enrollments.upsert_projection(
        projection(1, "done", id="acme:jrn_1:cus_2", customer_id="cus_2", status="exited")
    )

    assert await store.enrollments.count("acme", journey_id="jrn_1") == 2
    assert await store.enrollments.count("acme", journey_id="jrn_1", node="wait") == 1
    assert await store.enrollments.count("acme", status=["exited", "cancelled"]) == 1
    assert await store.enrollments.count("acme", version=2) == 0
    assert await store.enrollments.count("other") == 0
