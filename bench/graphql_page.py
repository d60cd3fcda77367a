"""A GraphQL page of customers versus the same data read directly with PyMongo.

    .venv/bin/python -m bench.graphql_page [--customers 100] [--runs 30]

Starts a throw-away embedded stack (SecantusDB, Temporal dev server: the app needs a Temporal
client even though this page never calls it), seeds `customers` customers, each with 2
identities, 2 tags and 2 enrollments of 1 delivery each, then times, after a warm-up:
- GraphQL: `customers(first: N) { identities tags enrollments { deliveries } }` through the real
  ASGI app (authentication, parsing, validation, limits, dataloaders, serialization) over
  httpx's ASGI transport, so no socket is timed;
- PyMongo: the same data in 3 queries (customers; their enrollments `$in`; those enrollments'
  deliveries `$in`), assembled into the same nested shape in Python.
Prints the MongoDB commands each issues (a command listener), the median and p90 times of the
runs, and the ratio GraphQL / PyMongo.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from api.app import create_app
from bench.common import ReadCounter, embedded_resources, seed_customer_page
from domain.tenants import Tenant
from store.database import Store

TENANT = "bench"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

PAGE = """
query($first: Int!) {
  customers(first: $first) {
    nodes {
      id
      identities { kind value }
      tags
      enrollments(first: 2) {
        nodes {
          id journeyId status currentNode
          deliveries(first: 2) { nodes { nodeId channel action status } }
        }
      }
    }
  }
}
"""


async def seed(store: Store, count: int) -> str:
    """The tenant's data; returns a viewer API key."""
    await store.tenants.create(Tenant(id=TENANT, name="bench", created_at=T0))
    _, key = await store.tenants.create_api_key(TENANT, "bench", "viewer", T0)
    await seed_customer_page(store, TENANT, count, T0)
    return key


async def direct(store: Store, count: int) -> list[dict[str, Any]]:
    """The page read with PyMongo in 3 queries and nested by hand."""
    db = store.db
    customers = (
        await db["customers"]
        .find(
            {"tenant_id": TENANT, "merged_into": None},
            projection={"identities": 1, "tags": 1},
        )
        .sort("_id", 1)
        .limit(count)
        .to_list(None)
    )
    ids = [c["_id"] for c in customers]
    enrollments = (
        await db["enrollments"]
        .find(
            {"tenant_id": TENANT, "customer_id": {"$in": ids}},
            projection={"customer_id": 1, "journey_id": 1, "status": 1, "current_node": 1},
        )
        .sort([("started_at", 1), ("_id", 1)])
        .to_list(None)
    )
    deliveries = (
        await db["deliveries"]
        .find(
            {"tenant_id": TENANT, "enrollment_id": {"$in": [e["_id"] for e in enrollments]}},
            projection={"enrollment_id": 1, "node_id": 1, "channel": 1, "action": 1, "status": 1},
        )
        .sort([("created_at", 1), ("_id", 1)])
        .to_list(None)
    )
    by_enrollment: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for delivery in deliveries:
        by_enrollment[delivery["enrollment_id"]].append(delivery)
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for enrollment in enrollments:
        enrollment["deliveries"] = by_enrollment[enrollment["_id"]][:2]
        by_customer[enrollment["customer_id"]].append(enrollment)
    for customer in customers:
        customer["enrollments"] = by_customer[customer["_id"]][:2]
    return customers


async def timed(runs: int, one: Callable[[], Awaitable[object]]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await one()
        times.append(time.perf_counter() - started)
    return times


def report(name: str, reads: Counter[str], times: list[float]) -> float:
    median = statistics.median(times)
    p90 = sorted(times)[round(0.9 * (len(times) - 1))]
    listed = ", ".join(f"{what} x{n}" for what, n in sorted(reads.items()))
    print(f"{name:<8} {sum(reads.values())} queries ({listed})")
    print(f"{'':<8} median {median * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms")
    return median


async def main(count: int, runs: int) -> None:
    async with embedded_resources() as (stack, res):
        counter = ReadCounter()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            stack.mongodb_uri, tz_aware=True, event_listeners=[counter]
        )
        try:
            store = Store(mongo[res.settings.mongodb_database])
            key = await seed(store, count)
            app = create_app(store, res.temporal, res.registry)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as api:

                async def graphql() -> None:
                    response = await api.post(
                        "/graphql",
                        json={"query": PAGE, "variables": {"first": count}},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    body = response.json()
                    assert "errors" not in body, body
                    assert len(body["data"]["customers"]["nodes"]) == count

                async def pymongo() -> None:
                    assert len(await direct(store, count)) == count

                await timed(max(3, runs // 5), graphql)
                await timed(max(3, runs // 5), pymongo)
                with counter.measure() as g_reads:
                    await graphql()
                with counter.measure() as p_reads:
                    await pymongo()
                g_times = await timed(runs, graphql)
                p_times = await timed(runs, pymongo)
        finally:
            await mongo.close()
        print(
            f"a page of {count} customers x (2 identities, 2 tags, 2 enrollments x "
            f"1 delivery), {runs} runs each"
        )
        ours = report("GraphQL", g_reads, g_times)
        base = report("PyMongo", p_reads, p_times)
        print(f"ratio GraphQL / PyMongo (median): {ours / base:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.runs))
