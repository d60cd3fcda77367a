"""Journey enrollments per second versus bare Temporal, on the same dev server in the same run.

    .venv/bin/python -m bench.enrollments [--count 200] [--concurrency 32]

Starts a throw-away embedded stack (Temporal dev server with the WAL pragmas, SecantusDB), then:
- baseline: `count` bare workflows, each running one no-op activity and completing;
- omnijourney: `count` enrollments of a journey entry → action (sandbox noop) → wait (1 h),
  measured until each enrollment's projection in MongoDB shows it resting in the wait.
Worker, client and servers share the machine, as in a single-box deployment. Prints both rates,
per-item latency percentiles, and the ratio.
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
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition, WaitNode
from runtime.resources import Resources
from runtime.serve import workers as journey_workers
from workflows import client as journeys

TENANT = "bench"
JOURNEY = JourneyDefinition(
    nodes=[
        EntryNode(id="entry"),
        ActionNode(id="act", channel="sandbox", action="noop"),
        WaitNode(id="wait", duration=timedelta(hours=1)),
        ExitNode(id="done"),
    ],
    edges=[
        Edge(source="entry", target="act"),
        Edge(source="act", target="wait"),
        Edge(source="wait", target="done"),
    ],
)


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
    journey_id: str,
    version: int,
    customers: list[str],
    concurrency: int,
    meter: CpuMeter | None = None,
) -> tuple[float, list[float], dict[str, float]]:
    """Enroll `customers`, then watch the projections until all rest in the wait; the time it
    took, each enrollment's latency, and the CPU spent meanwhile (read by `meter`).

    Latency per enrollment = when its projection reached the wait (workflow time) minus when its
    start was requested; progress is polled with one count query, not one query per item.
    """
    count = len(customers)
    requested: dict[str, datetime] = {}
    gate = asyncio.Semaphore(concurrency)

    async def start(n: int) -> None:
        async with gate:
            requested_at = datetime.now(UTC)
            outcome = await journeys.enroll(
                res.temporal,
                tenant_id=TENANT,
                journey_id=journey_id,
                version=version,
                customer_id=customers[n],
            )
            requested[outcome.enrollment_id] = requested_at

    cpu_before = meter.read() if meter is not None else {}
    started = time.perf_counter()
    await asyncio.gather(*(start(n) for n in range(count)))
    ids = list(requested)
    waiting = res.mongo[res.settings.mongodb_database]["enrollments"]
    query = {"tenant_id": TENANT, "_id": {"$in": ids}, "current_node": "wait"}
    for _ in range(6000):  # at most 10 minutes
        if await waiting.count_documents(query) >= count:
            break
        await asyncio.sleep(0.1)
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


def report(name: str, count: int, elapsed: float, latencies: list[float]) -> float:
    rate = count / elapsed
    print(
        f"{name:<34} {rate:7.1f}/s   p50 {statistics.median(latencies) * 1000:6.0f} ms"
        f"   p99 {percentile(latencies, 0.99) * 1000:6.0f} ms   ({count} in {elapsed:.1f} s)"
    )
    return rate


async def main(count: int, concurrency: int) -> None:
    async with embedded_resources() as (stack, res):
        meter = CpuMeter.of(stack)
        now = datetime.now(UTC)
        journey = await res.store.journeys.create(TENANT, "bench", now, draft=JOURNEY)
        version = await res.store.journeys.publish(TENANT, journey.id, JOURNEY, [], now)
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
            warm_customers = await customers(res, warm, "warm")
            await enrollments(res, journey.id, version, warm_customers, concurrency)
            run_customers = await customers(res, count, "run")
            print(f"{count} each, {concurrency} in flight, after {warm} warm-up each")
            cpu_0 = meter.read()
            b_elapsed, b_lat = await bare(res, count, concurrency, "run")
            cpu_1 = meter.read()
            j_elapsed, j_lat, j_cpu = await enrollments(
                res, journey.id, version, run_customers, concurrency, meter
            )
            base = report("bare Temporal (start+activity+end)", count, b_elapsed, b_lat)
            print(f"  {CpuMeter.per_item(cpu_0, cpu_1, count)}")
            ours = report("omnijourney (entry→action→wait)", count, j_elapsed, j_lat)
            print(f"  {CpuMeter.per_item(dict.fromkeys(j_cpu, 0.0), j_cpu, count)}")
            print(f"ratio omnijourney / bare Temporal: {ours / base:.2f}")
        finally:
            await asyncio.gather(*(w.shutdown() for w in all_workers))
            await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency))
