"""Re-entered enrollments: runs of one enrollment id ordered by start, kept, and their steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from domain.enrollments import Enrollment, Transition, run_id
from domain.metrics import JourneyCut, TimeRange
from store.database import Store
from store.mongo import ENROLLMENT_RUNS, TRANSITIONS
from tests.integration.support import EID, enrollment_record, transition_record

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=3)


def projection(started: datetime, seq: int, node: str, **changes: Any) -> Enrollment:
    return enrollment_record(node, started=started, seq=seq, **changes)


def finished(started: datetime, seq: int) -> Enrollment:
    end = started + timedelta(minutes=seq)
    return projection(started, seq, "done", status="exited", exit_reason="done", ended_at=end)


def transition(started: datetime | None, seq: int, to_node: str | None, at: datetime) -> Transition:
    return transition_record(seq, to_node, at, run_started_at=started)


async def test_a_new_run_replaces_the_projection_and_the_finished_run_is_kept(
    store: Store,
) -> None:
    first = finished(T0, 5)
    await store.enrollments.upsert_projection(projection(T0, 1, "entry"))
    await store.enrollments.upsert_projection(first)

    assert await store.enrollments.upsert_projection(projection(T1, 1, "entry"))
    assert await store.enrollments.upsert_projection(projection(T1, 2, "welcome"))

    assert await store.enrollments.get("acme", EID) == projection(T1, 2, "welcome")
    runs = await store.enrollments.runs("acme", EID)
    assert runs.items == [first]
    assert runs.next_cursor is None


async def test_a_late_write_of_an_earlier_run_updates_only_that_runs_record(
    store: Store,
) -> None:
    await store.enrollments.upsert_projection(projection(T0, 4, "wait"))
    await store.enrollments.upsert_projection(projection(T1, 1, "entry"))

    assert not await store.enrollments.upsert_projection(finished(T0, 5))
    assert not await store.enrollments.upsert_projection(projection(T0, 3, "welcome"))

    assert await store.enrollments.get("acme", EID) == projection(T1, 1, "entry")
    assert (await store.enrollments.runs("acme", EID)).items == [finished(T0, 5)]


async def test_runs_of_one_run_through_continue_as_new_replace_nothing(store: Store) -> None:
    # a run keeps its start through continue-as-new; only `seq` moves on
    for seq in range(1, 4):
        assert await store.enrollments.upsert_projection(projection(T0, seq, f"n{seq}"))

    assert (await store.enrollments.get("acme", EID)) == projection(T0, 3, "n3")
    assert (await store.enrollments.runs("acme", EID)).items == []


async def test_a_start_with_microseconds_is_the_same_run_after_storing(store: Store) -> None:
    started = T0.replace(microsecond=123456)
    stored = T0.replace(microsecond=123000)

    assert await store.enrollments.upsert_projection(projection(started, 1, "entry"))
    assert await store.enrollments.upsert_projection(projection(started, 2, "welcome"))
    assert not await store.enrollments.upsert_projection(projection(started, 1, "entry"))

    assert await store.enrollments.get("acme", EID) == projection(stored, 2, "welcome")
    assert (await store.enrollments.runs("acme", EID)).items == []


async def test_earlier_runs_page_oldest_first_and_stay_in_their_tenant(store: Store) -> None:
    starts = [T0 + timedelta(days=n) for n in range(4)]
    for started in starts:
        await store.enrollments.upsert_projection(finished(started, 2))

    first = await store.enrollments.runs("acme", EID, limit=2)
    rest = await store.enrollments.runs("acme", EID, limit=2, cursor=first.next_cursor)

    assert [run.started_at for run in first.items + rest.items] == starts[:3]
    assert all(run.id == EID for run in first.items + rest.items)
    assert rest.next_cursor is None
    assert (await store.enrollments.runs("other", EID)).items == []
    kept = await store.db[ENROLLMENT_RUNS].find_one({"_id": run_id(EID, starts[0])})
    assert kept is not None and kept["tenant_id"] == "acme" and kept["enrollment_id"] == EID


async def test_each_run_keeps_its_own_steps_and_the_path_is_the_current_runs(
    store: Store,
) -> None:
    await store.enrollments.record_transitions(
        [transition(T0, n, f"a{n}", T0 + timedelta(minutes=n)) for n in range(3)]
    )
    await store.enrollments.upsert_projection(finished(T0, 3))
    new_run = [transition(T1, n, f"b{n}", T1 + timedelta(minutes=n)) for n in range(2)]

    assert await store.enrollments.record_transitions(new_run) == 2
    assert await store.enrollments.record_transitions(new_run) == 0
    await store.enrollments.upsert_projection(projection(T1, 2, "b1"))

    current = await store.enrollments.transitions_for_enrollment("acme", EID)
    earlier = await store.enrollments.transitions_for_enrollment("acme", EID, run_started_at=T0)
    assert [t.to_node for t in current.items] == ["b0", "b1"]
    assert [t.to_node for t in earlier.items] == ["a0", "a1", "a2"]
    pages = await store.enrollments.first_transition_pages("acme", [EID, "acme:jrn_1:nobody"])
    assert [t.to_node for t in pages[EID].items] == ["b0", "b1"]
    assert pages["acme:jrn_1:nobody"].items == []


async def test_steps_recorded_before_runs_were_told_apart_belong_to_the_run_they_fell_in(
    store: Store,
) -> None:
    legacy = [transition(None, n, f"a{n}", T0 + timedelta(minutes=n)) for n in range(3)]
    await store.enrollments.record_transitions(legacy)
    await store.enrollments.upsert_projection(finished(T0, 3))
    await store.enrollments.record_transitions([transition(T1, 0, "b0", T1)])
    await store.enrollments.upsert_projection(projection(T1, 1, "b0"))

    current = await store.enrollments.transitions_for_enrollment("acme", EID, limit=1)
    earlier = await store.enrollments.transitions_for_enrollment(
        "acme", EID, run_started_at=T0, limit=2
    )
    rest = await store.enrollments.transitions_for_enrollment(
        "acme", EID, run_started_at=T0, cursor=earlier.next_cursor
    )

    assert [t.to_node for t in current.items] == ["b0"]
    assert current.next_cursor is None
    assert [t.to_node for t in earlier.items + rest.items] == ["a0", "a1", "a2"]


async def test_ensure_indexes_replaces_the_per_enrollment_step_index_keeping_the_steps(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    transitions = mongo_db[TRANSITIONS]
    old = IndexModel(
        [("tenant_id", ASCENDING), ("enrollment_id", ASCENDING), ("seq", ASCENDING)],
        unique=True,
        name="seq_unique",
    )
    await transitions.create_indexes([old])
    store = Store(mongo_db)
    legacy = [transition(None, n, f"a{n}", T0 + timedelta(minutes=n)) for n in range(2)]
    await store.enrollments.record_transitions(legacy)

    await store.ensure_indexes()
    await store.ensure_indexes()

    indexes = await transitions.index_information()
    assert "seq_unique" not in indexes
    assert indexes["run_seq_unique"]["unique"]
    assert await transitions.count_documents({"enrollment_id": EID}) == 2
    again = [transition(T1, n, f"b{n}", T1 + timedelta(minutes=n)) for n in range(2)]
    assert await store.enrollments.record_transitions([*legacy, *again, *again]) == 2


async def test_metrics_count_every_run_each_with_its_own_steps(store: Store) -> None:
    steps = [(None, "entry"), ("entry", "a"), ("a", None)]
    await store.enrollments.record_transitions(
        [
            transition(None, n, to, T0 + timedelta(minutes=n)).model_copy(update={"from_node": f})
            for n, (f, to) in enumerate(steps)
        ]
    )
    await store.enrollments.upsert_projection(finished(T0, 3))
    again = [(None, "entry"), ("entry", "b")]
    await store.enrollments.record_transitions(
        [
            transition(T1, n, to, T1 + timedelta(minutes=n)).model_copy(update={"from_node": f})
            for n, (f, to) in enumerate(again)
        ]
    )
    await store.enrollments.upsert_projection(projection(T1, 2, "b", converted_at=T1))
    month = TimeRange(start=T0 - timedelta(days=1), end=T0 + timedelta(days=20))
    cut = JourneyCut(journey_id="jrn_1")

    funnel = await store.metrics.funnel("acme", month, cut, None)
    conversion = await store.metrics.journey_conversion("acme", month, cut)

    assert funnel.started == 2
    entered = {node.node_id: (node.entered, node.enrollments) for node in funnel.nodes}
    assert entered == {"entry": (2, 2), "a": (1, 1), "b": (1, 1)}
    assert (conversion.started, conversion.converted) == (2, 1)
