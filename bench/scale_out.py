"""Scale-out: enrollments per second with 2 worker processes ÷ with 1, on the same servers.

    .venv/bin/python -m bench.scale_out [--count 600] [--concurrency 32] [--workers 1,2]

The target is ≥ 1.6 (the design scales out: workers are stateless, Temporal spreads the tasks of
one queue over every process polling it). Every part runs in its own OS process
(`bench.procstack`): SecantusDB, the Temporal dev server, and `omnijourney worker` processes; the
benchmark's process enrolls (the Temporal client, as the API would) and watches the projections.
The journey is the one of `bench.enrollments` (entry → sandbox action → wait 1 h). For each
worker count in `--workers`: start that many worker processes, enroll a warm-up (a tenth of
`count`, at least 20), then `count` more, timed until every projection rests in the wait; stop the
workers (`--fresh`: each worker count on servers of its own, so no phase inherits the data of
another; the embedded SecantusDB's cost per operation grows with its data). Prints each rate and
the ratio, and the CPU seconds each process used during the timed
part (utime + stime from /proc/<pid>/stat) with the share of the machine's cores that makes: when
the servers and the benchmark already take most of the cores, a second worker has nothing to run
on, and the ratio says so rather than the design.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.enrollments import JOURNEY
from bench.procstack import AppStack, cpu_meter, process_stack, publish
from bench.sleeping import enroll

TENANT = "bench"


async def phase(app: AppStack, workers: int, count: int, concurrency: int) -> tuple[float, str]:
    """Enrollments per second with `workers` worker processes, and the CPU line of the run."""
    res = app.res
    journey_id, version = await publish(res, TENANT, f"scale-{workers}", JOURNEY)
    now = datetime.now(UTC)
    warm = max(20, count // 10)
    customers = [
        (await res.store.customers.resolve(TENANT, {"external_id": f"w{workers}-{n}"}, now))[0].id
        for n in range(warm + count)
    ]
    processes = [app.worker(f"worker-{workers}-{n}") for n in range(workers)]
    try:
        await enroll(app, journey_id, version, customers[:warm], warm, concurrency)
        pids = {f"worker{n + 1}": p.pid for n, p in enumerate(processes)} | app.servers_pids()
        started = time.perf_counter()
        with cpu_meter(pids) as cpu:
            await enroll(app, journey_id, version, customers[warm:], warm + count, concurrency)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            app.stop(process)
    cores = os.cpu_count() or 1
    total = sum(cpu.values())
    used = "  ".join(f"{name} {seconds:5.1f}" for name, seconds in cpu.items())
    rate = count / elapsed
    print(
        f"{workers} worker process{'es' if workers > 1 else ''}: {rate:6.1f}/s  "
        f"({count} in {elapsed:.1f} s after {warm} warm-up)",
        flush=True,
    )
    line = (
        f"  CPU s: {used}  = {total:.1f} s of {elapsed * cores:.1f} core-s "
        f"({total / (elapsed * cores):.0%} of {cores} cores), {total / count * 1000:.1f} ms/enrollment"
    )
    print(line, flush=True)
    return rate, line


async def main(count: int, concurrency: int, worker_counts: list[int], fresh: bool) -> None:
    print(
        f"{count} enrollments per worker count, {concurrency} starts in flight, "
        f"{os.cpu_count()} cores shared by servers, workers and this process; "
        + ("fresh servers for each worker count" if fresh else "one set of servers for all")
    )
    rates = {}
    with tempfile.TemporaryDirectory(prefix="omnijourney-scale-") as tmp:
        if fresh:
            for workers in worker_counts:
                async with process_stack(Path(tmp) / f"w{workers}") as app:
                    rates[workers], _ = await phase(app, workers, count, concurrency)
        else:
            async with process_stack(Path(tmp)) as app:
                for workers in worker_counts:
                    rates[workers], _ = await phase(app, workers, count, concurrency)
    if 1 in rates:
        for workers, rate in rates.items():
            if workers != 1:
                print(f"ratio {workers} worker processes / 1: {rate / rates[1]:.2f}")


def parser() -> argparse.ArgumentParser:
    """The benchmark's arguments."""
    args = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    args.add_argument("--count", type=int, default=600, help="timed enrollments per worker count")
    args.add_argument("--concurrency", type=int, default=32)
    args.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="worker process counts to run, comma-separated (default 1,2)",
    )
    args.add_argument(
        "--fresh",
        action="store_true",
        help="run each worker count on fresh servers (the embedded SecantusDB scans: its cost "
        "per operation grows with the data an earlier phase left, which favours the first)",
    )
    return args


if __name__ == "__main__":
    options = parser().parse_args()
    asyncio.run(main(options.count, options.concurrency, options.workers, options.fresh))
