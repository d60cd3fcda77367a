"""Journey simulation through GraphQL: a tracked operation with progress and a chartable result,
a bad draft refused with every problem named, and a backtest that reproduces the funnel real
enrollments recorded in MongoDB.

Real app, real MongoDB; the backtest's seeded run goes through real workflows on the Temporal dev
server; simulations run in a child process as in production.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.services.simulation_runner import ProcessRunner, Progress, SimulationJob
from api.services.simulations import BacktestSpec, SimulationRequest, SimulationRuns
from domain.enrollments import enrollment_id
from domain.journey import JourneyDefinition
from domain.metrics import JourneyCut, TimeRange
from simulator.models import (
    Delay,
    EventModel,
    SimulationOptions,
    SimulationResult,
    SyntheticCohort,
)
from store.database import Store
from store.operations import BulkOperation
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, event, eventually, gql, post_events, published_journey

SIMULATE = """
mutation($j: ID!, $cohort: SimulationCohortInput!, $draft: Boolean!, $days: Int,
         $version: Int) {
  simulateJourney(journeyId: $j, cohort: $cohort, draft: $draft, days: $days,
                  version: $version) {
    __typename
    ... on BulkOperation { id kind status }
    ... on ValidationFailed { problems { code nodeId message path } }
    ... on InvalidInput { errors { path message } }
    ... on NotFound { missing: kind }
    ... on Forbidden { requiredPermission }
  }
}
"""
SIMULATION = """
query($id: ID!) {
  simulation(id: $id) {
    id journeyId version cohort days
    operation { kind status total done percent error }
    result {
      customers enrolled dates
      nodes { nodeId entered customers current occupancy { day value } entries { value } }
      edges { source label target count }
      channels { channel days { day sent } totals { attempted sent skippedConsent } }
      capHits { capId held skipped }
      conversions { count rate p50Hours perDay { value } }
      reasons { status reason count }
    }
  }
}
"""
PAID = {
    "type": "order.paid",
    "probability": 0.5,
    "delay": {"kind": "UNIFORM", "minHours": 0.1, "maxHours": 2.0},
}
SIGNUP = {"entryEventType": "signup.completed", "entryProperties": {"plan": "pro"}}


async def _finished(api: httpx.AsyncClient, tenant: TenantKeys, operation_id: str) -> Any:
    async def probe() -> Any:
        found = (await gql(api, tenant, SIMULATION, {"id": operation_id}, role="viewer"))[
            "simulation"
        ]
        done = found["operation"]["status"] in ("SUCCEEDED", "FAILED")
        return found if done else None

    return await eventually(probe, attempts=600)


async def _simulate(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    journey_id: str,
    cohort: dict[str, Any],
    *,
    draft: bool = False,
    days: int | None = None,
    role: str = "designer",
) -> Any:
    variables = {"j": journey_id, "cohort": cohort, "draft": draft, "days": days}
    return (await gql(api, tenant, SIMULATE, variables, role=role))["simulateJourney"]


async def test_a_synthetic_cohort_is_simulated_as_a_tracked_operation_with_a_chartable_result(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant, welcome_journey(timeout="PT1H"))
    cohort = {"size": 300, "seed": 11, "arrivalDays": 2, **SIGNUP, "events": [PAID]}

    started = await _simulate(api, tenant, journey_id, {"synthetic": cohort}, days=5)
    assert (started["__typename"], started["kind"]) == ("BulkOperation", "SIMULATE")
    found = await _finished(api, tenant, started["id"])

    # What the cohort itself says: a customer buys within the hour of waiting, or lapses.
    model = SyntheticCohort(
        size=300,
        seed=11,
        arrival_days=2,
        entry_event_type="signup.completed",
        entry_properties={"plan": "pro"},
        events=[
            EventModel(
                type="order.paid",
                probability=0.5,
                delay=Delay(kind="uniform", min_hours=0.1, max_hours=2.0),
            )
        ],
    )
    bought = sum(
        1
        for customer in model.customers()
        if any(e.at - customer.arrives_at <= timedelta(hours=1) for e in customer.events)
    )
    assert 0 < bought < 300
    assert found["operation"] == {
        "kind": "SIMULATE",
        "status": "SUCCEEDED",
        "total": 300,
        "done": 300,
        "percent": 100.0,
        "error": None,
    }
    assert (found["journeyId"], found["version"], found["cohort"], found["days"]) == (
        journey_id,
        1,
        "SYNTHETIC",
        5,
    )
    result = found["result"]
    assert (result["customers"], result["enrolled"], len(result["dates"])) == (300, 300, 5)
    entered = {node["nodeId"]: node["entered"] for node in result["nodes"]}
    assert entered == {
        "start": 300,
        "welcome": 300,
        "await_order": 300,
        "bought": bought,
        "lapsed": 300 - bought,
    }
    welcome = next(node for node in result["nodes"] if node["nodeId"] == "welcome")
    assert [point["day"] for point in welcome["occupancy"]] == [0, 1, 2, 3, 4]
    assert sum(point["value"] for point in welcome["entries"]) == 300
    [sandbox] = result["channels"]
    assert (sandbox["channel"], sandbox["totals"]["sent"]) == ("sandbox", 300)
    assert sum(day["sent"] for day in sandbox["days"]) == 300
    assert {(r["reason"], r["count"]) for r in result["reasons"]} == {
        ("bought", bought),
        ("lapsed", 300 - bought),
    }

    # Another tenant sees nothing of it, and may not simulate this tenant's journey.
    foreign = await gql(api, other_tenant, SIMULATION, {"id": started["id"]})
    assert foreign == {"simulation": None}
    elsewhere = await _simulate(api, other_tenant, journey_id, {"synthetic": cohort})
    assert elsewhere == {"__typename": "NotFound", "missing": "journey"}
    operator = await _simulate(api, tenant, journey_id, {"synthetic": cohort}, role="operator")
    assert operator == {"__typename": "Forbidden", "requiredPermission": "edit_journeys"}


async def test_a_draft_with_problems_is_refused_naming_every_problem_as_publishing_does(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    broken = welcome_journey()
    broken["nodes"][1]["channel"] = "carrier_pigeon"  # no such channel
    broken["nodes"][2]["timeout"] = "PT0S"  # a wait that cannot wait
    broken["edges"] = broken["edges"][:-1]  # `lapsed` is unreachable, `timed_out` missing
    created = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "Broken", "definition": broken}}
    )
    journey = created["createJourney"]
    assert len(journey["problems"]) >= 3

    refused = await _simulate(api, tenant, journey["id"], {"synthetic": {"size": 10}}, draft=True)
    published = (await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey["id"]}))["publishJourney"]

    assert refused["__typename"] == "ValidationFailed"
    assert refused["problems"] == published["problems"] == journey["problems"]
    # Nothing published, so by default the draft is what would run: refused alike.
    default = await _simulate(api, tenant, journey["id"], {"synthetic": {"size": 10}})
    assert default == refused


async def test_bad_arguments_are_refused_each_named(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    both = {
        "synthetic": {"size": 200_000, "events": [{"type": "order.paid", "probability": 2}]},
        "backtest": {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
    }

    refused = await _simulate(api, tenant, journey_id, both, days=400)

    assert refused["__typename"] == "InvalidInput"
    assert {error["path"] for error in refused["errors"]} == {
        "cohort",
        "cohort.synthetic.size",
        "cohort.synthetic.events.0.probability",
        "cohort.backtest.until",
        "days",
    }
    manual = welcome_journey()
    manual["nodes"][0]["trigger"] = {"type": "manual"}
    manual_id = await published_journey(api, tenant, manual, name="Manual")
    window = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-02T00:00:00Z"}
    no_entry = await _simulate(api, tenant, manual_id, {"backtest": window})
    assert [error["path"] for error in no_entry["errors"]] == ["cohort.backtest.enteredOnly"]


async def _seed_run(
    api: httpx.AsyncClient, tenant: TenantKeys, store: Store, journey_id: str, started: list[str]
) -> None:
    """Eight sign-ups: six `pro` enter the journey (three then buy while it waits, three lapse);
    one `free` does not enter; one customer only views a page. Every enrollment ends."""
    enrolled = []
    for index in range(8):
        phone = f"1360000{index:04d}"
        now = datetime.now(UTC).isoformat()
        if index == 7:
            batch = [event(f"view-{phone}", "page.viewed", {"phone": phone}, timestamp=now)]
        else:
            plan = "free" if index == 6 else "pro"
            batch = [
                event(f"signup-{phone}", "signup.completed", {"phone": phone}, {"plan": plan}, now)
            ]
        body = await post_events(api, tenant, batch)
        customer_id = body["results"][0]["customer_id"]
        if index < 6:
            enrolled.append(enrollment_id(tenant.tenant_id, journey_id, customer_id))
    started += enrolled

    for index, workflow_id in enumerate(enrolled[:3]):

        async def waiting(workflow_id: str = workflow_id) -> bool:
            found = await store.enrollments.get(tenant.tenant_id, workflow_id)
            return found is not None and found.current_node == "await_order"

        await eventually(waiting)
        phone = f"1360000{index:04d}"
        now = datetime.now(UTC).isoformat()
        await post_events(
            api, tenant, [event(f"paid-{phone}", "order.paid", {"phone": phone}, {}, now)]
        )

    async def ended() -> bool:
        found = [await store.enrollments.get(tenant.tenant_id, w) for w in enrolled]
        return all(e is not None and e.status != "active" for e in found)

    await eventually(ended, attempts=300)


async def test_a_backtest_reproduces_the_funnel_a_seeded_run_recorded(
    api: httpx.AsyncClient,
    store: Store,
    tenant: TenantKeys,
    workers: None,
    started: list[str],
) -> None:
    definition = welcome_journey(timeout="PT4S")
    since = datetime.now(UTC) - timedelta(seconds=1)
    journey_id = await published_journey(api, tenant, definition)
    await _seed_run(api, tenant, store, journey_id, started)
    until = datetime.now(UTC) + timedelta(seconds=1)
    recorded = await store.metrics.funnel(
        tenant.tenant_id,
        TimeRange(start=since, end=until),
        JourneyCut(journey_id=journey_id),
        JourneyDefinition.model_validate(definition),
    )

    backtest = {"since": since.isoformat(), "until": until.isoformat()}
    begun = await _simulate(api, tenant, journey_id, {"backtest": backtest})
    found = await _finished(api, tenant, begun["id"])

    assert found["operation"]["status"] == "SUCCEEDED", found["operation"]
    assert (found["cohort"], found["days"], found["operation"]["total"]) == ("BACKTEST", 1, 6)
    result = found["result"]
    assert recorded.started == result["enrolled"] == 6
    assert {n["nodeId"]: n["entered"] for n in result["nodes"]} == {
        node.node_id: node.entered for node in recorded.nodes
    }
    assert {
        (e["source"], e["label"], e["target"], e["count"])
        for e in result["edges"]
        if e["source"] and e["target"]
    } == {
        (node.node_id, edge.label, edge.target, edge.count)
        for node in recorded.nodes
        for edge in node.proceeded
    }
    assert {(r["reason"], r["count"]) for r in result["reasons"]} == {
        (exit.reason, exit.count) for node in recorded.nodes for exit in node.exited
    }
    assert {n.node_id: n.entered for n in recorded.nodes}["bought"] == 3

    # Everyone with an event there, entering or not: the `free` sign-up and the page view too,
    # each arriving with their first event, the buyers replaying their order after it.
    runs = SimulationRuns(store, ProcessRunner())
    everyone = await runs.backtest_customers(
        tenant.tenant_id,
        journey_id,
        JourneyDefinition.model_validate(definition),
        BacktestSpec(since=since, until=until, entered_only=False),
    )
    assert [c.entry_event.type for c in everyone if c.entry_event] == [
        *["signup.completed"] * 7,
        "page.viewed",
    ]
    assert sorted(len(c.events) for c in everyone) == [0] * 5 + [1] * 3
    assert sum(c.run is not None for c in everyone) == 6  # the enrolled keep their run's key

    # A cohort past its limit fails the operation, saying why.
    capped = {**backtest, "limit": 5}
    too_many = await _finished(
        api, tenant, (await _simulate(api, tenant, journey_id, {"backtest": capped}))["id"]
    )
    assert too_many["operation"]["status"] == "FAILED"
    assert "more than 5 customers" in too_many["operation"]["error"]
    assert too_many["result"] is None


class _SteppedRunner:
    """Reports half the cohort done, then waits to be let go before answering a result."""

    def __init__(self) -> None:
        self.halfway = asyncio.Event()
        self.go_on = asyncio.Event()

    async def run(self, job: SimulationJob, progress: Progress) -> SimulationResult:
        total = job.synthetic.size if job.synthetic is not None else 0
        await progress(total // 2, total)
        self.halfway.set()
        await self.go_on.wait()
        return SimulationResult(start=datetime.now(UTC), days=job.options.days, customers=total)


async def test_a_running_simulation_shows_its_progress_and_keeps_its_lease(
    store: Store, tenant: TenantKeys
) -> None:
    request = SimulationRequest(
        journey_id="j",
        version=1,
        definition=JourneyDefinition.model_validate(welcome_journey()),
        synthetic=SyntheticCohort(size=300),
        options=SimulationOptions(days=3),
    )
    operation = BulkOperation(
        id="op-sim-progress",
        tenant_id=tenant.tenant_id,
        kind="simulate",
        journey_id="j",
        simulation=request.model_dump(mode="json"),
        created_by="key",
        created_at=datetime.now(UTC),
    )
    await store.operations.create(operation)
    runner = _SteppedRunner()
    runs = SimulationRuns(store, runner, lease=timedelta(minutes=5))
    working = asyncio.create_task(runs.work(operation))
    await runner.halfway.wait()

    midway = await store.operations.get(tenant.tenant_id, operation.id)
    runner.go_on.set()
    await working
    after = await store.operations.get(tenant.tenant_id, operation.id)

    assert midway is not None and (midway.total, midway.done) == (300, 150)
    assert midway.lease_until is not None
    assert midway.lease_until > datetime.now(UTC) + timedelta(minutes=4)
    assert after is not None and after.done == 300
    saved = await store.simulations.get(tenant.tenant_id, operation.id)
    assert saved is not None and saved["customers"] == 300
    assert await store.simulations.get("another-tenant", operation.id) is None
