"""Journey enrollments per second versus bare Temporal, on the same dev server in the same run.

    .venv/bin/python -m bench.enrollments [--count 200] [--concurrency 32]

Starts a throw-away embedded stack (Temporal dev server with the WAL pragmas, SecantusDB), then:
- baseline: `count` bare workflows, each running one no-op activity and completing;
- omnijourney, direct: `count` enrollments of a journey entry → action (sandbox noop) → wait (1 h)
  started by `workflows.client.enroll`, measured until each enrollment's projection in MongoDB
  shows it resting in the wait;
- omnijourney, through ingest: the same journey entered by an event, `count` events sent one per
  call through `IngestService.ingest` (validated, customer resolved, stored, routed by
  signal-with-start), measured the same way.
Worker, client and servers share the machine, as in a single-box deployment. Prints the rates,
per-item latency percentiles, CPU per item per process (where the time goes), and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from temporalio.worker import Worker

from bench.bare import BareWorkflow, noop
from bench.common import CpuMeter, embedded_resources
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    JourneyDefinition,
    WaitNode,
)
from ingestion.service import IngestService
from runtime.resources import Resources
from runtime.serve import workers as journey_workers
from workflows import client as journeys

TENANT = "bench"
ENTRY_EVENT = "bench.signed_up"


def journey(entry: EntryNode, wait: timedelta = timedelta(hours=1)) -> JourneyDefinition:
    """entry → sandbox noop → wait → exit (the benches' journey)."""
    return JourneyDefinition(
        nodes=[
            entry,
            ActionNode(id="act", channel="sandbox", action="noop"),
            WaitNode(id="wait", duration=wait),
            ExitNode(id="done"),
        ],
        edges=[
            Edge(source="entry", target="act"),
            Edge(source="act", target="wait"),
            Edge(source="wait", target="done"),
        ],
    )


JOURNEY = journey(EntryNode(id="entry"))
BY_EVENT = journey(EntryNode(id="entry", trigger=EventTrigger(event_type=ENTRY_EVENT)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _bounded(
    count: int, concurrency: int, one: Callable[[int], Awaitable[float]]
) -> tuple[float, list[float]]:
    gate = asyncio.Semaphore(concurrency)

    async def run(n: int) -> float:
        async with gate:
            return await one(n)

    started = time.perf_counter()
    latencies = await asyncio.gather(*(run(n) for n in range(count)))
    return time.perf_counter() - started, list(latencies)


async def bare(res: Resources, count: int, concurrency: int, tag: str) -> tuple[float, list[float]]:
    client = res.temporal

    async def one(n: int) -> float:
        started = time.perf_counter()
        await client.execute_workflow(
            BareWorkflow.run, f"{n}", id=f"bare-{tag}-{n}", task_queue="bench-bare"
        )
        return time.perf_counter() - started

    return await _bounded(count, concurrency, one)


async def customers(res: Resources, count: int, tag: str) -> list[str]:
    """`count` new customers' ids (made before the clock starts)."""
    now = datetime.now(UTC)
    return [
        (await res.store.customers.resolve(TENANT, {"external_id": f"{tag}-{n}"}, now))[0].id
        for n in range(count)
    ]


async def enrollments(
    res: Resources,
    start_one: Callable[[int], Awaitable[str]],
    count: int,
    concurrency: int,
    meter: CpuMeter | None = None,
) -> tuple[float, list[float], dict[str, float]]:
    """Start `count` enrollments (`start_one(n)` answers the enrollment id), then watch the
    projections until all rest in the wait; the time it took, each enrollment's latency, and
    the CPU spent meanwhile (read by `meter`).

    Latency per enrollment = when its projection reached the wait (workflow time) minus when its
    start was requested; progress is polled with one count query, not one query per item.
    """
    requested: dict[str, datetime] = {}
    gate = asyncio.Semaphore(concurrency)

    async def start(n: int) -> None:
        async with gate:
            requested_at = datetime.now(UTC)
            requested[await start_one(n)] = requested_at

    cpu_before = meter.read() if meter is not None else {}
    started = time.perf_counter()
    await asyncio.gather(*(start(n) for n in range(count)))
    ids = list(requested)
    waiting = res.mongo[res.settings.mongodb_database]["enrollments"]
    query = {"tenant_id": TENANT, "_id": {"$in": ids}, "current_node": "wait"}
    for _ in range(3000):  # at most 10 minutes
        if await waiting.count_documents(query) >= count:
            break
        await asyncio.sleep(0.2)
    else:
        raise TimeoutError("enrollments did not all reach the wait within 10 minutes")
    elapsed = time.perf_counter() - started
    cpu = (
        {name: spent - cpu_before[name] for name, spent in meter.read().items()}
        if meter is not None
        else {}
    )
    latencies = []
    for enrollment_id in ids:
        found = await res.store.enrollments.get(TENANT, enrollment_id)
        assert found is not None
        latencies.append((found.updated_at - requested[enrollment_id]).total_seconds())
    return elapsed, latencies, cpu


def direct(
    res: Resources, journey_id: str, version: int, customer_ids: list[str]
) -> Callable[[int], Awaitable[str]]:
    """Enrollment `n` started by `workflows.client.enroll` for `customer_ids[n]`."""

    async def start_one(n: int) -> str:
        outcome = await journeys.enroll(
            res.temporal,
            tenant_id=TENANT,
            journey_id=journey_id,
            version=version,
            customer_id=customer_ids[n],
        )
        return outcome.enrollment_id

    return start_one


def through_ingest(res: Resources, tag: str) -> Callable[[int], Awaitable[str]]:
    """Enrollment `n` started by ingesting customer `n`'s entry event (one event per call)."""
    ingest = IngestService(res.store, res.temporal)

    async def start_one(n: int) -> str:
        [result] = await ingest.ingest(
            TENANT,
            [
                {
                    "id": f"{tag}-signup-{n}",
                    "type": ENTRY_EVENT,
                    "identity": {"external_id": f"{tag}-ingest-{n}"},
                    "timestamp": datetime.now(UTC).isoformat(),
                }
            ],
        )
        [route] = result.routes
        return route.enrollment_id

    return start_one


def report(name: str, count: int, elapsed: float, latencies: list[float]) -> float:
    rate = count / elapsed
    print(
        f"{name:<42} {rate:7.1f}/s   p50 {statistics.median(latencies) * 1000:6.0f} ms"
        f"   p99 {percentile(latencies, 0.99) * 1000:6.0f} ms   ({count} in {elapsed:.1f} s)"
    )
    return rate


async def main(count: int, concurrency: int) -> None:
    async with embedded_resources() as (stack, res):
        meter = CpuMeter.of(stack)
        now = datetime.now(UTC)
        direct_journey = await res.store.journeys.create(TENANT, "direct", now, draft=JOURNEY)
        direct_version = await res.store.journeys.publish(
            TENANT, direct_journey.id, JOURNEY, [], now
        )
        event_journey = await res.store.journeys.create(TENANT, "by event", now, draft=BY_EVENT)
        await res.store.journeys.publish(TENANT, event_journey.id, BY_EVENT, [], now)
        bare_worker = Worker(
            res.temporal,
            task_queue="bench-bare",
            workflows=[BareWorkflow],
            activities=[noop],
        )
        all_workers = [bare_worker, *journey_workers(res)]
        tasks = [asyncio.create_task(w.run()) for w in all_workers]
        try:
            warm = max(10, count // 10)
            await bare(res, warm, concurrency, "warm")
            enroll_warm = direct(
                res, direct_journey.id, direct_version, await customers(res, warm, "warm")
            )
            await enrollments(res, enroll_warm, warm, concurrency)
            await enrollments(res, through_ingest(res, "warm"), warm, concurrency)
            enroll_run = direct(
                res, direct_journey.id, direct_version, await customers(res, count, "run")
            )
            print(f"{count} each, {concurrency} in flight, after {warm} warm-up each")
            cpu_0 = meter.read()
            b_elapsed, b_lat = await bare(res, count, concurrency, "run")
            cpu_1 = meter.read()
            base = report("bare Temporal (start+activity+end)", count, b_elapsed, b_lat)
            print(f"  {CpuMeter.per_item(cpu_0, cpu_1, count)}")
            for name, start_one in (
                ("omnijourney, direct (entry→action→wait)", enroll_run),
                ("omnijourney, through ingest", through_ingest(res, "run")),
            ):
                elapsed, latencies, cpu = await enrollments(
                    res, start_one, count, concurrency, meter
                )
                ours = report(name, count, elapsed, latencies)
                print(f"  {CpuMeter.per_item(dict.fromkeys(cpu, 0.0), cpu, count)}")
                print(f"  ratio to bare Temporal: {ours / base:.2f}")
        finally:
            await asyncio.gather(*(w.shutdown() for w in all_workers))
            await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency))
