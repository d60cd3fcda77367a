"""What one metrics query may ask of MongoDB: a range of at most a year, and every aggregation
run with `maxTimeMS`, a timeout answering `QUERY_TIMEOUT` instead of holding the request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient, monitoring
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from domain.errors import QueryTimeoutError
from domain.metrics import AudienceCut, ChannelCut, JourneyCut, TimeRange
from store.customers import CustomerSearch
from store.database import Store
from tests.api.support import TenantKeys, gql, make_tenant

T0 = datetime(2026, 1, 5, tzinfo=UTC)
AUDIENCE = """
query($from: DateTime!, $to: DateTime!) {
  audienceMetrics(from: $from, to: $to) {
    __typename
    ... on AudienceMetrics { levers { entered } privateDomainUsers }
    ... on InvalidInput { message errors { path message } }
  }
}
"""
CHANNELS = """
query($from: DateTime!, $to: DateTime!) {
  channelMetrics(from: $from, to: $to) {
    __typename ... on InvalidInput { errors { path message } }
  }
}
"""


def _range(days: int) -> dict[str, str]:
    return {"from": T0.isoformat(), "to": (T0 + timedelta(days=days)).isoformat()}


async def test_a_range_longer_than_a_year_is_refused_naming_the_limit(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    year = await gql(api, tenant, AUDIENCE, _range(366), role="viewer")
    assert year["audienceMetrics"]["__typename"] == "AudienceMetrics"

    for query, name in ((AUDIENCE, "audienceMetrics"), (CHANNELS, "channelMetrics")):
        longer = (await gql(api, tenant, query, _range(367), role="viewer"))[name]
        assert longer["__typename"] == "InvalidInput"
        [problem] = longer["errors"]
        assert problem["path"] == "to"
        assert "at most 366 days" in problem["message"]


@dataclass
class MaxTimes(monitoring.CommandListener):
    """The `maxTimeMS` of every aggregate command sent while recording (None: not given)."""

    seen: list[tuple[str, Any]] = field(default_factory=list)
    recording: bool = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        # count_documents is an aggregate command too
        if self.recording and event.command_name == "aggregate":
            self.seen.append((event.command["aggregate"], event.command.get("maxTimeMS")))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextmanager
    def record(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen = []
        self.recording = True
        try:
            yield self.seen
        finally:
            self.recording = False


@pytest.fixture
async def listened(mongo_uri: str) -> AsyncIterator[tuple[AsyncMongoClient[Any], MaxTimes]]:
    listener = MaxTimes()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_uri, tz_aware=True, event_listeners=[listener]
    )
    try:
        yield client, listener
    finally:
        await client.close()


async def test_every_metrics_and_timeline_aggregation_carries_max_time_ms(
    listened: tuple[AsyncMongoClient[Any], MaxTimes],
) -> None:
    client, listener = listened
    name = f"t_{uuid.uuid4().hex}"
    store = Store(client[name], max_time_ms=4321)
    span = TimeRange(start=T0, end=T0 + timedelta(days=30))
    try:
        with listener.record() as seen:
            await store.metrics.commerce("acme", span, AudienceCut())
            await store.metrics.retention("acme", span, AudienceCut(), T0 + timedelta(days=90))
            await store.metrics.private_domain_users("acme", span, AudienceCut())
            await store.metrics.deliveries("acme", span, ChannelCut())
            await store.metrics.commerce("acme", span, JourneyCut(journey_id="j"))
            await store.timeline.for_customer("acme", "cus_1")
    finally:
        await client.drop_database(name)
    assert len(seen) >= 6
    assert {limit for _, limit in seen} == {4321}, seen


async def test_reads_a_client_asks_for_carry_max_time_ms(
    listened: tuple[AsyncMongoClient[Any], MaxTimes],
) -> None:
    client, listener = listened
    name = f"t_{uuid.uuid4().hex}"
    store = Store(client[name], max_time_ms=4321)
    try:
        with listener.record() as seen:
            await store.customers.count("acme", CustomerSearch(tags_all=["vip"]))
            await store.customers.count("acme", CustomerSearch(journey_id="j"))
            await store.journeys.count("acme")
            await store.enrollments.count("acme", journey_id="j")
            await store.enrollments.count_by_current_node("acme", "j", 1)
            await store.enrollments.first_pages_for_customers("acme", ["cus_1"])
            await store.deliveries.first_pages_for_enrollments("acme", ["enr_1"])
            await store.operations.count("acme")
            await store.dead_letters.count("acme")
    finally:
        await client.drop_database(name)
    assert len(seen) == 9, seen
    assert {limit for _, limit in seen} == {4321}, seen


async def test_an_aggregation_over_its_time_answers_query_timeout(
    store: Store,
    temporal_env: WorkflowEnvironment,
    registry: ConnectorRegistry,
) -> None:
    tenant = await make_tenant(store, "slow")
    customers = [
        {
            "_id": f"cus_{index:05d}",
            "tenant_id": tenant.tenant_id,
            "merged_into": None,
            "created_at": T0 + timedelta(minutes=index),
            "identities": [{"kind": "phone", "value": f"139{index:08d}"}],
            "consent": {"sms": True},
        }
        for index in range(5000)
    ]
    await store.db["customers"].insert_many(customers)
    # The same data behind a 1 ms budget: SecantusDB (like MongoDB) stops the aggregation.
    hurried = Store(store.db, max_time_ms=1)
    span = TimeRange(start=T0, end=T0 + timedelta(days=30))
    with pytest.raises(QueryTimeoutError, match="1 ms"):
        await hurried.metrics.private_domain_users(tenant.tenant_id, span, AudienceCut())

    app = create_app(hurried, temporal_env.client, registry)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as api:
        response = await api.post(
            "/graphql", json={"query": AUDIENCE, "variables": _range(30)}, headers=tenant.auth()
        )
    body = response.json()
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"QUERY_TIMEOUT"}, body
    assert all("1 ms" in error["message"] for error in body["errors"])
