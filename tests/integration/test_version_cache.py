"""`load_version` reads a published version once per worker process, except one whose experiment
still waits for its winner (read every time, so a decision applies to the next run at once)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from activities import models as act
from activities.journey import JourneyActivities
from domain.experiments import ExperimentDecision
from domain.journey import Edge, EntryNode, ExitNode, JourneyDefinition
from store.database import Store
from tests.workflows.test_experiments import ab_journey

PLAIN = JourneyDefinition(
    nodes=[EntryNode(id="in"), ExitNode(id="out")], edges=[Edge(source="in", target="out")]
)


async def _publish(store: Store, definition: JourneyDefinition) -> tuple[str, int]:
    now = datetime.now(UTC)
    journey = await store.journeys.create("acme", "j", now, draft=definition)
    version = await store.journeys.publish("acme", journey.id, definition, [], now)
    return journey.id, version


async def test_a_plain_version_is_read_once_then_served_from_memory(store: Store) -> None:
    journey_id, version = await _publish(store, PLAIN)
    activities = JourneyActivities(store)
    ask = act.LoadVersionInput(tenant_id="acme", journey_id=journey_id, version=version)
    first = await activities.load_version(ask)
    # gone from the store: only a cached read can still answer
    await store.db["journey_versions"].delete_many({"tenant_id": "acme"})
    assert await activities.load_version(ask) == first
    # another worker process reads the store
    with pytest.raises(ApplicationError) as raised:
        await JourneyActivities(store).load_version(ask)
    assert raised.value.type == "NotFound"


async def test_an_undecided_experiment_sees_its_winner_on_the_next_load(store: Store) -> None:
    journey_id, version = await _publish(store, ab_journey())
    activities = JourneyActivities(store)
    ask = act.LoadVersionInput(tenant_id="acme", journey_id=journey_id, version=version)
    assert (await activities.load_version(ask)).winners == {}
    [open_version] = await store.experiments.open()
    decision = ExperimentDecision(
        node_id="ab", variant_id="b", decided_at=datetime.now(UTC), reason="sample"
    )
    assert await store.experiments.record(open_version, decision)
    assert (await activities.load_version(ask)).winners == {"ab": "b"}
    # decided: nothing is left to change, so it is kept from now on
    await store.db["journey_versions"].delete_many({"tenant_id": "acme"})
    assert (await activities.load_version(ask)).winners == {"ab": "b"}
