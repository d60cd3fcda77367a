"""Journeys: optimistic draft edits, atomic version numbers, entry routing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ConflictError, NotFoundError
from domain.journey import (
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    GoalNode,
    HookTrigger,
    JourneyDefinition,
    WaitForEventNode,
)
from store.database import Store

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def definition(trigger: EventTrigger | HookTrigger) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry", trigger=trigger),
            WaitForEventNode(id="join", event_type="wecom.group_joined", timeout=timedelta(days=2)),
            GoalNode(id="paid", event_type="order.paid"),
            ExitNode(id="done"),
        ],
        edges=[
            Edge(source="entry", target="join"),
            Edge(source="join", target="done", label="matched"),
            Edge(source="join", target="done", label="timed_out"),
        ],
    )


HOOKED = definition(HookTrigger(hook="douyin-ad-spring"))


async def test_a_draft_round_trips_through_the_store(store: Store) -> None:
    journey = await store.journeys.create("acme", "Douyin → WeCom", T0, draft=HOOKED)

    loaded = await store.journeys.get("acme", journey.id)

    assert loaded == journey
    assert loaded.draft == HOOKED
    assert (loaded.status, loaded.revision, loaded.latest_version) == ("draft", 1, 0)


async def test_a_stale_revision_cannot_overwrite_the_draft(store: Store) -> None:
    journey = await store.journeys.create("acme", "j", T0)
    edited = await store.journeys.update_draft(
        "acme", journey.id, 1, T0, draft=HOOKED, description="v2"
    )

    with pytest.raises(ConflictError):
        await store.journeys.update_draft("acme", journey.id, 1, T0, name="lost update")

    assert edited.revision == 2
    assert (await store.journeys.get("acme", journey.id)) == edited


async def test_concurrent_publishes_get_distinct_consecutive_versions(store: Store) -> None:
    journey = await store.journeys.create("acme", "j", T0, draft=HOOKED)

    numbers = await asyncio.gather(
        *(
            store.journeys.publish("acme", journey.id, HOOKED, HOOKED.listened_event_types(), T0)
            for _ in range(8)
        )
    )

    assert sorted(numbers) == list(range(1, 9))
    versions = await store.journeys.list_versions("acme", journey.id)
    assert [v.version for v in versions] == list(range(1, 9))
    live = await store.journeys.get("acme", journey.id)
    assert (live.status, live.latest_version, live.live_version) == ("published", 8, 8)


async def test_a_published_version_keeps_its_definition(store: Store) -> None:
    journey = await store.journeys.create("acme", "j", T0, draft=HOOKED)
    number = await store.journeys.publish(
        "acme", journey.id, HOOKED, HOOKED.listened_event_types(), T0
    )
    await store.journeys.update_draft(
        "acme", journey.id, 1, T0, draft=definition(EventTrigger(event_type="lead.created"))
    )

    version = await store.journeys.get_version("acme", journey.id, number)

    assert version.definition == HOOKED
    assert version.entry_event_type == "wecom.contact_added"
    assert version.entry_hook == "douyin-ad-spring"
    assert version.listened_event_types == [
        "order.paid",
        "wecom.contact_deleted_by_customer",
        "wecom.contact_deleted_by_staff",
        "wecom.group_joined",
    ]
    with pytest.raises(NotFoundError):
        await store.journeys.get_version("acme", journey.id, number + 1)


async def test_entry_matches_are_the_live_versions_of_published_journeys(store: Store) -> None:
    lead = definition(EventTrigger(event_type="lead.created"))
    hooked = await store.journeys.create("acme", "hooked", T0, draft=HOOKED)
    changed = await store.journeys.create("acme", "changed", T0, draft=HOOKED)
    archived = await store.journeys.create("acme", "archived", T0, draft=HOOKED)
    await store.journeys.create("acme", "never published", T0, draft=HOOKED)
    for journey in (hooked, changed, archived):
        await store.journeys.publish("acme", journey.id, HOOKED, [], T0)
    await store.journeys.publish("acme", hooked.id, HOOKED, [], T0)
    await store.journeys.publish("acme", changed.id, lead, [], T0)
    await store.journeys.archive("acme", archived.id, T0)

    contact = await store.journeys.find_published_entry_matches("acme", "wecom.contact_added")
    leads = await store.journeys.find_published_entry_matches("acme", "lead.created")

    assert [(v.journey_id, v.version) for v in contact] == [(hooked.id, 2)]
    assert [(v.journey_id, v.version) for v in leads] == [(changed.id, 2)]
    assert await store.journeys.find_published_entry_matches("acme", "order.paid") == []


async def test_an_archived_journey_cannot_be_published(store: Store) -> None:
    journey = await store.journeys.create("acme", "j", T0, draft=HOOKED)
    await store.journeys.archive("acme", journey.id, T0)

    with pytest.raises(ConflictError):
        await store.journeys.publish("acme", journey.id, HOOKED, [], T0)
    with pytest.raises(NotFoundError):
        await store.journeys.publish("acme", "jrn_missing", HOOKED, [], T0)


async def test_journeys_page_in_creation_order(store: Store) -> None:
    created = [(await store.journeys.create("acme", f"j{n}", T0)).id for n in range(5)]

    first = await store.journeys.list("acme", limit=2)
    second = await store.journeys.list("acme", limit=2, cursor=first.next_cursor)
    third = await store.journeys.list("acme", limit=2, cursor=second.next_cursor)

    assert [j.id for j in first.items + second.items + third.items] == created
    assert third.next_cursor is None
