"""A GraphQL page of customers versus the same data read directly with PyMongo.

    .venv/bin/python -m bench.graphql_page [--customers 100] [--runs 30]

Starts a throw-away embedded stack (SecantusDB, Temporal dev server: the app needs a Temporal
client even though this page never calls it), seeds `customers` customers, each with 2
identities, 2 tags and 2 enrollments of 1 delivery each, then times, after a warm-up:
- GraphQL: `customers(first: N) { identities tags enrollments(first: 2) { deliveries(first: 2) }
  }` through the real ASGI app (authentication, parsing, validation, limits, dataloaders,
  serialization) over httpx's ASGI transport, so no socket is timed; the client's decoding of
  the JSON answer is not timed;
- PyMongo: the same data, read as a careful hand-written client would: 3 queries (the customers,
  projected to identities and tags; each one's first 2 enrollments in start order, and each
  enrollment's first 2 deliveries oldest first, as `$topN` aggregations projected to the fields
  the page asks for, each answered in one batch), nested into the same shape in Python.
Both pages are checked to hold the same data before anything is timed. The two sides take turns
run by run, so a shared machine's load weighs on both alike. Prints the MongoDB commands each
issues (a command listener), the median and p90 times of the runs, the CPU each run costs in this
process (the API and the client; the rest of a run is SecantusDB's work and waiting for it), and
the ratio GraphQL / PyMongo.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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


async def _first_of_each(
    coll: Any,
    match: dict[str, Any],
    group: str,
    keys: list[str],
    order: list[str],
    n: int,
    fields: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """The first `n` documents (in `order`) of each `group` value in `keys`, with only `fields`:
    one aggregation, its rows in one batch."""
    cursor = await coll.aggregate(
        [
            {"$match": {**match, group: {"$in": keys}}},
            {
                "$group": {
                    "_id": f"${group}",
                    "docs": {
                        "$topN": {
                            "n": n,
                            "sortBy": {name: 1 for name in order},
                            "output": {name: f"${name}" for name in fields},
                        }
                    },
                }
            },
        ],
        batchSize=len(keys) + 1,  # one more than the rows, or the server keeps the cursor open
    )
    return {row["_id"]: row["docs"] async for row in cursor}


async def direct(store: Store, count: int) -> list[dict[str, Any]]:
    """The page read with PyMongo in 3 queries and nested by hand: what the GraphQL page reads
    (each customer's first 2 enrollments in start order, each enrollment's first 2 deliveries
    oldest first), projected to the fields it asks for."""
    db = store.db
    customers = (
        await db["customers"]
        .find(
            {"tenant_id": TENANT, "merged_into": None},
            projection={"identities": 1, "tags": 1},
            batch_size=count + 1,
        )
        .sort("_id", 1)
        .limit(count)
        .to_list(None)
    )
    enrollments = await _first_of_each(
        db["enrollments"],
        {"tenant_id": TENANT},
        "customer_id",
        [c["_id"] for c in customers],
        ["started_at", "_id"],
        2,
        ["_id", "journey_id", "status", "current_node"],
    )
    enrollment_ids = [e["_id"] for page in enrollments.values() for e in page]
    deliveries = await _first_of_each(
        db["deliveries"],
        {"tenant_id": TENANT},
        "enrollment_id",
        enrollment_ids,
        ["created_at", "_id"],
        2,
        ["node_id", "channel", "action", "status"],
    )
    for customer in customers:
        customer["enrollments"] = enrollments.get(customer["_id"], [])
        for enrollment in customer["enrollments"]:
            enrollment["deliveries"] = deliveries.get(enrollment["_id"], [])
    return customers


def same_page(graphql: list[dict[str, Any]], direct: list[dict[str, Any]]) -> bool:
    """Whether the GraphQL page and the PyMongo page hold the same data (so like is timed
    against like)."""

    def from_graphql(customer: dict[str, Any]) -> Any:
        return (
            customer["id"],
            [(i["kind"], i["value"]) for i in customer["identities"]],
            customer["tags"],
            [
                (
                    e["id"],
                    e["journeyId"],
                    e["status"].lower(),
                    e["currentNode"],
                    [
                        (d["nodeId"], d["channel"], d["action"], d["status"])
                        for d in e["deliveries"]["nodes"]
                    ],
                )
                for e in customer["enrollments"]["nodes"]
            ],
        )

    def from_direct(customer: dict[str, Any]) -> Any:
        return (
            customer["_id"],
            [(i["kind"], i["value"]) for i in customer["identities"]],
            customer["tags"],
            [
                (
                    e["_id"],
                    e["journey_id"],
                    e["status"],
                    e["current_node"],
                    [
                        (d["node_id"], d["channel"], d["action"], d["status"])
                        for d in e["deliveries"]
                    ],
                )
                for e in customer["enrollments"]
            ],
        )

    return [from_graphql(c) for c in graphql] == [from_direct(c) for c in direct]


@dataclass
class Timings:
    """One side's runs: wall-clock seconds each, and this process's CPU seconds in all."""

    wall: list[float] = field(default_factory=list)
    cpu: float = 0.0


async def interleaved(
    runs: int, sides: dict[str, Callable[[], Awaitable[object]]]
) -> dict[str, Timings]:
    """`runs` runs of each side, taking turns (in alternating order), so that the load of a
    shared machine drifting during the benchmark weighs on both sides alike."""
    timings = {name: Timings() for name in sides}
    order = list(sides)
    for _ in range(runs):
        for name in order:
            cpu = time.process_time()
            started = time.perf_counter()
            await sides[name]()
            timings[name].wall.append(time.perf_counter() - started)
            timings[name].cpu += time.process_time() - cpu
        order.reverse()
    return timings


def report(name: str, reads: Counter[str], timings: Timings) -> float:
    times = timings.wall
    median = statistics.median(times)
    p90 = sorted(times)[round(0.9 * (len(times) - 1))]
    cpu = timings.cpu / len(times)
    listed = ", ".join(f"{what} x{n}" for what, n in sorted(reads.items()))
    print(f"{name:<8} {sum(reads.values())} queries ({listed})")
    print(
        f"{'':<8} median {median * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms   "
        f"CPU in this process {cpu * 1000:6.2f} ms a run"
    )
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

                async def graphql() -> httpx.Response:
                    response = await api.post(
                        "/graphql",
                        json={"query": PAGE, "variables": {"first": count}},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    assert response.status_code == 200, response.text
                    return response

                async def pymongo() -> list[dict[str, Any]]:
                    return await direct(store, count)

                with counter.measure() as g_reads:
                    body = (await graphql()).json()
                with counter.measure() as p_reads:
                    page = await pymongo()
                assert "errors" not in body, body
                nodes = body["data"]["customers"]["nodes"]
                assert len(nodes) == count == len(page), (len(nodes), len(page))
                assert same_page(nodes, page), "GraphQL and PyMongo read different data"
                await interleaved(max(3, runs // 5), {"GraphQL": graphql, "PyMongo": pymongo})
                timings = await interleaved(runs, {"GraphQL": graphql, "PyMongo": pymongo})
        finally:
            await mongo.close()
        print(
            f"a page of {count} customers x (2 identities, 2 tags, 2 enrollments x "
            f"1 delivery), {runs} runs each, taking turns"
        )
        ours = report("GraphQL", g_reads, timings["GraphQL"])
        base = report("PyMongo", p_reads, timings["PyMongo"])
        print(f"ratio GraphQL / PyMongo (median): {ours / base:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.runs))
