"""Open sleeping enrollments: worker memory, storage per enrollment, API p99 while they sleep.

    .venv/bin/python -m bench.sleeping [--count 5000] [--checkpoints 1000,2000,5000]
        [--concurrency 32] [--requests 300] [--cache N]

The target is 100,000 open enrollments with the worker under 400 MB and the API's p99 unchanged.
Creating 100,000 workflows takes most of an hour on a 2-core box, so `count` is a flag and the
figures are taken at several counts and extrapolated to 100,000.

Every part runs in its own OS process (`bench.procstack`): SecantusDB, the Temporal dev server,
one `omnijourney worker` and one `omnijourney api` (API_RATE_LIMIT=0); the benchmark's process
only seeds, enrolls and asks. The journey is entry → action (sandbox noop) → wait 30 days, so every
enrollment ends up asleep on a durable timer. Before any enrollment it measures the worker's RSS,
the servers' data on disk and the API's latency (`requests` sequential GraphQL reads of a page of
50 customers over HTTP, the same data before and after); then, at each checkpoint, once all
enrolled so far rest in the wait and a few seconds have passed, the same again. Prints, per
checkpoint: enrolment rate, worker RSS (`VmRSS`), the servers' RSS, bytes per enrollment in
MongoDB and in Temporal's SQLite, API p50/p99 and p99 ÷ the baseline's; then what those imply at
100,000. `--cache` sets the worker's WORKER_MAX_CACHED_WORKFLOWS (default: the setting's default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.enrollments import journey, percentile
from bench.procstack import AppStack, process_stack, publish, rss_mb, tree_bytes
from domain.customers import Customer, Identity
from domain.journey import EntryNode
from domain.tenants import Tenant
from runtime.settings import Settings
from store.customers.documents import customer_to_doc
from store.ids import new_id
from workflows import client as journeys

TENANT = "bench"
TARGET = 100_000
SETTLE_SECONDS = 5.0
JOURNEY = journey(EntryNode(id="entry"), wait=timedelta(days=30))
PAGE = "query { customers(first: 50) { nodes { id identities { kind value } tags } } }"


async def latencies(http: httpx.AsyncClient, requests: int) -> list[float]:
    """Seconds each of `requests` sequential GraphQL page reads took."""
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await http.post("/graphql", json={"query": PAGE})
        times.append(time.perf_counter() - started)
        body = response.json()
        assert "errors" not in body and len(body["data"]["customers"]["nodes"]) == 50, body
    return times


async def seed_customers(app: AppStack, count: int, now: datetime) -> list[str]:
    """`count` customers of one identity each, written in batches (not resolved one by one: the
    embedded SecantusDB scans for every lookup, so that would take longer than the run)."""
    collection = app.res.mongo[app.res.settings.mongodb_database]["customers"]
    ids = []
    for first in range(0, count, 1000):
        batch = [
            Customer(
                id=new_id("cus"),
                tenant_id=TENANT,
                identities=[Identity(kind="external_id", value=f"c{n}")],
                created_at=now,
                updated_at=now,
            )
            for n in range(first, min(count, first + 1000))
        ]
        await collection.insert_many([customer_to_doc(c) for c in batch])
        ids += [c.id for c in batch]
    return ids


async def enroll(
    app: AppStack, journey_id: str, version: int, customers: list[str], total: int, concurrency: int
) -> float:
    """Enroll `customers`, then wait until `total` enrollments rest in the wait; seconds taken."""
    res = app.res
    gate = asyncio.Semaphore(concurrency)

    async def one(customer_id: str) -> None:
        async with gate:
            await journeys.enroll(
                res.temporal,
                tenant_id=TENANT,
                journey_id=journey_id,
                version=version,
                customer_id=customer_id,
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in customers))
    waiting = res.mongo[res.settings.mongodb_database]["enrollments"]
    query = {"tenant_id": TENANT, "journey_id": journey_id, "current_node": "wait"}
    while await waiting.count_documents(query) < total:
        if not all(p.running for p in app.started):
            raise RuntimeError(f"a process exited; logs in {app.root / 'logs'}")
        await asyncio.sleep(1.0)
    return time.perf_counter() - started


def storage(app: AppStack) -> tuple[int, int]:
    """Bytes on disk of MongoDB's and of Temporal's data."""
    return tree_bytes(app.root / "mongodb"), tree_bytes(app.root / "temporal")


def per_thousand(points: list[tuple[int, float]]) -> float:
    """The least-squares slope of (count, MB) points, in MB per 1,000."""
    mean_n = statistics.mean(n for n, _ in points)
    mean_v = statistics.mean(v for _, v in points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    return sum((n - mean_n) * (v - mean_v) for n, v in points) / spread * 1000


def mb(value: float) -> str:
    return f"{value / 2**20:7.1f} MB"


async def main(
    count: int, checkpoints: list[int], concurrency: int, requests: int, cache: int | None
) -> None:
    defaults = Settings.model_fields
    cached = cache if cache is not None else defaults["worker_max_cached_workflows"].default
    tuning = {
        "WORKER_MAX_CACHED_WORKFLOWS": cached,
        "WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": defaults[
            "worker_max_concurrent_workflow_tasks"
        ].default,
        "WORKER_MAX_CONCURRENT_ACTIVITIES": defaults["worker_max_concurrent_activities"].default,
    }
    with tempfile.TemporaryDirectory(prefix="omnijourney-sleeping-") as tmp:
        async with process_stack(Path(tmp)) as app:
            res = app.res
            now = datetime.now(UTC)
            await res.store.tenants.create(Tenant(id=TENANT, name="bench", created_at=now))
            _, key = await res.store.tenants.create_api_key(TENANT, "bench", "viewer", now)
            journey_id, version = await publish(res, TENANT, "sleeping", JOURNEY)
            seeding = time.perf_counter()
            customers = await seed_customers(app, count, now)
            seeded = time.perf_counter() - seeding
            worker = app.worker("worker", **{name: str(v) for name, v in tuning.items()})
            async with (
                app.api() as (api, base_url),
                httpx.AsyncClient(
                    base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
                ) as http,
            ):
                print(
                    f"{count} sleeping enrollments (entry → sandbox action → wait 30 days), "
                    f"{concurrency} starts in flight; worker: "
                    + ", ".join(f"{name}={value}" for name, value in tuning.items())
                )
                print(f"seeded {count} customers in {seeded:.1f} s")
                await latencies(http, 100)  # warm-up
                await asyncio.sleep(SETTLE_SECONDS)
                base = await latencies(http, requests)
                base_p99 = percentile(base, 0.99)
                mongo0, temporal0 = storage(app)
                rows: list[tuple[int, float, int, int]] = []
                header = (
                    f"{'sleeping':>8}  {'enrol/s':>7}  {'worker RSS':>10}  {'temporal RSS':>12}"
                    f"  {'mongodb RSS':>11}  {'Mongo B/enr':>11}  {'Temporal B/enr':>14}"
                    f"  {'API p50':>8}  {'API p99':>8}  p99 ÷ base"
                )
                print(header)

                def line(n: int, rate: str, times: list[float]) -> None:
                    servers = app.servers_pids()
                    mongo, temporal = storage(app)
                    per = (
                        (f"{(mongo - mongo0) / n:11.0f}", f"{(temporal - temporal0) / n:14.0f}")
                        if n
                        else (f"{'-':>11}", f"{'-':>14}")
                    )
                    p99 = percentile(times, 0.99)
                    worker_rss = rss_mb(worker.pid)
                    rows.append((n, worker_rss, mongo, temporal))
                    print(
                        f"{n:>8}  {rate:>7}  {worker_rss:7.1f} MB  "
                        f"{rss_mb(servers['temporal']):9.1f} MB  {rss_mb(servers['mongodb']):8.1f} MB"
                        f"  {per[0]}  {per[1]}  {statistics.median(times) * 1000:5.1f} ms"
                        f"  {p99 * 1000:5.1f} ms  {p99 / base_p99:5.2f}",
                        flush=True,
                    )

                line(0, "-", base)
                enrolled = 0
                rates = []
                for checkpoint in checkpoints:
                    elapsed = await enroll(
                        app,
                        journey_id,
                        version,
                        customers[enrolled:checkpoint],
                        checkpoint,
                        concurrency,
                    )
                    rates.append((checkpoint - enrolled) / elapsed)
                    enrolled = checkpoint
                    await asyncio.sleep(SETTLE_SECONDS)
                    line(checkpoint, f"{rates[-1]:.1f}", await latencies(http, requests))
                n2, _, mongo2, temporal2 = rows[-1]
                # The slope once the cache is full (least squares), else over the last two.
                full = [(n, rss) for n, rss, _, _ in rows if n >= cached] or [
                    (n, rss) for n, rss, _, _ in rows[-2:]
                ]
                if len(full) < 2:
                    full = [(n, rss) for n, rss, _, _ in rows[-2:]]
                slope = per_thousand(full)
                peak = max(rss for _, rss, _, _ in rows)
                print(f"implied at {TARGET:,} (extrapolated from {n2:,}; shared 2-core machine):")
                print(
                    f"  worker RSS {peak + max(0.0, slope) * (TARGET - n2) / 1000:7.1f} MB  "
                    f"(highest measured {peak:.1f} MB; {slope:+.2f} MB per 1,000 more from "
                    f"{full[0][0]:,} to {full[-1][0]:,}, counted only if positive; the sticky "
                    f"cache holds at most {cached} workflows, the rest sleep in Temporal only)"
                )
                print(
                    f"  MongoDB   {mb((mongo2 - mongo0) / n2 * TARGET)}   Temporal "
                    f"{mb((temporal2 - temporal0) / n2 * TARGET)}   (bytes per enrollment x {TARGET:,})"
                )
                print(
                    f"  creating them at {statistics.mean(rates):.1f}/s takes "
                    f"{TARGET / statistics.mean(rates) / 60:.0f} min; API p99 while they sleep: "
                    "see the p99 ÷ base column (flat = unchanged)"
                )
                with contextlib.suppress(Exception):
                    await http.aclose()
                assert api.running


def parser() -> argparse.ArgumentParser:
    """The benchmark's arguments."""
    args = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    args.add_argument("--count", type=int, default=5000, help="enrollments in all (default 5000)")
    args.add_argument(
        "--checkpoints",
        type=lambda text: [int(n) for n in text.split(",")],
        default=None,
        help="counts to measure at, comma-separated (default: count/5, 2count/5, count)",
    )
    args.add_argument("--concurrency", type=int, default=32)
    args.add_argument("--requests", type=int, default=300, help="API reads per measurement")
    args.add_argument("--cache", type=int, default=None, help="WORKER_MAX_CACHED_WORKFLOWS")
    return args


def checkpoints_of(count: int, given: list[int] | None) -> list[int]:
    """The counts to measure at: `given` (up to `count`, which is always last), or 1/5, 2/5, all."""
    chosen = given or [count // 5, 2 * count // 5]
    return sorted({n for n in chosen if 0 < n < count} | {count})


if __name__ == "__main__":
    options = parser().parse_args()
    points = checkpoints_of(options.count, options.checkpoints)
    if len(points) < 2:
        raise SystemExit("need at least two checkpoints to show the slope")
    asyncio.run(main(options.count, points, options.concurrency, options.requests, options.cache))
