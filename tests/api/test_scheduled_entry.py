"""Scheduled segment entry through GraphQL on a real Temporal Schedule: made with a cron in a
time zone (its next runs read back), a run (triggered now) enrolls the segment as it is then as
an ENROLL operation, a later run respects re-entry, and deleting it removes the schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.enrollments import enrollment_id
from store.database import Store
from tests.api.journeys import welcome_journey
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

SCHEDULE = """
mutation($input: ScheduleSegmentEntryInput!) {
  scheduleSegmentEntry(input: $input) {
    __typename
    ... on ScheduledEntry { id journeyId cron timezone nextRuns perSecond segment }
    ... on InvalidInput { errors { path message } }
    ... on Conflict { message }
  }
}
"""
LIST = "query($j: ID) { scheduledEntries(journeyId: $j) { id cron nextRuns } }"
DELETE = "mutation($id: ID!) { deleteScheduledEntry(id: $id) { __typename ... on ScheduledEntry { id } } }"
OPERATIONS = """
query($j: ID!) { operations(journeyId: $j) { nodes { kind status total done skipped createdBy } } }
"""


async def _vip(api: httpx.AsyncClient, tenant: TenantKeys, store: Store, phone: str) -> str:
    body = await post_events(api, tenant, [event(f"seen-{phone}", "page.viewed", {"phone": phone})])
    customer_id: str = body["results"][0]["customer_id"]
    await store.customers.update_profile(
        tenant.tenant_id, customer_id, datetime.now(UTC), add_tags=["vip"]
    )
    return customer_id


async def test_a_schedule_enrolls_the_segment_at_each_run(
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
    workers: None,
    started: list[str],
) -> None:
    journey_id = await published_journey(api, tenant, welcome_journey(timeout="PT10M"))
    first = await _vip(api, tenant, store, "13600000001")
    started.append(enrollment_id(tenant.tenant_id, journey_id, first))
    data = await gql(
        api,
        tenant,
        SCHEDULE,
        {
            "input": {
                "journeyId": journey_id,
                "cron": "0 10 * * 1",
                "timezone": "Asia/Shanghai",
                "filter": {"tags": {"all": ["vip"]}},
                "perSecond": 50,
            }
        },
        role="operator",
    )
    made = data["scheduleSegmentEntry"]
    assert made["__typename"] == "ScheduledEntry", made
    runs = [
        datetime.fromisoformat(run).astimezone(ZoneInfo("Asia/Shanghai"))
        for run in made["nextRuns"]
    ]
    assert runs and all((r.weekday(), r.hour, r.minute) == (0, 10, 0) for r in runs)
    assert (await gql(api, other_tenant, LIST, {"j": None}))["scheduledEntries"] == []

    handle = temporal_env.client.get_schedule_handle(made["id"])
    await handle.trigger()

    async def enrolled_once() -> list[dict[str, object]] | None:
        nodes = (await gql(api, tenant, OPERATIONS, {"j": journey_id}, role="viewer"))[
            "operations"
        ]["nodes"]
        done = [n for n in nodes if n["status"] == "SUCCEEDED"]
        return done if done else None

    [run] = await eventually(enrolled_once)
    assert (run["kind"], run["total"], run["done"], run["createdBy"]) == (
        "ENROLL",
        1,
        1,
        f"schedule:{made['id']}",
    )

    async def projected() -> object | None:
        return await store.enrollments.get(
            tenant.tenant_id, enrollment_id(tenant.tenant_id, journey_id, first)
        )

    assert await eventually(projected)

    second = await _vip(api, tenant, store, "13600000002")  # joins the segment later
    started.append(enrollment_id(tenant.tenant_id, journey_id, second))
    await handle.trigger()

    async def enrolled_twice() -> list[dict[str, object]] | None:
        found = await enrolled_once()
        return found if found is not None and len(found) == 2 else None

    runs_done = await eventually(enrolled_twice)
    assert sorted((r["done"], r["skipped"]) for r in runs_done) == [(1, 0), (1, 1)]

    deleted = await gql(api, tenant, DELETE, {"id": made["id"]}, role="operator")
    assert deleted["deleteScheduledEntry"] == {"__typename": "ScheduledEntry", "id": made["id"]}
    assert (await gql(api, tenant, LIST, {"j": journey_id}))["scheduledEntries"] == []
    with pytest.raises(RPCError):
        await handle.describe()


async def test_a_bad_cron_or_zone_is_named_and_nothing_is_scheduled(
    api: httpx.AsyncClient, tenant: TenantKeys, temporal_env: WorkflowEnvironment
) -> None:
    journey_id = await published_journey(api, tenant)

    bad_cron = await gql(
        api, tenant, SCHEDULE, {"input": {"journeyId": journey_id, "cron": "every tuesday"}}
    )
    bad_zone = await gql(
        api,
        tenant,
        SCHEDULE,
        {"input": {"journeyId": journey_id, "cron": "0 10 * * *", "timezone": "Mars/Base"}},
    )

    assert bad_cron["scheduleSegmentEntry"]["errors"][0]["path"] == "input.cron"
    assert bad_zone["scheduleSegmentEntry"]["errors"][0]["path"] == "input.timezone"
    assert (await gql(api, tenant, LIST, {"j": journey_id}))["scheduledEntries"] == []
