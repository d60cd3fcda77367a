"""Whether a simulation leaves the API's event loop responsive: loop lag while one runs.

    .venv/bin/python -m bench.simulation_loop [--customers 20000] [--days 90]

The API runs each simulation in a child process (`api.services.simulation_runner.ProcessRunner`).
This runs the same job (the canonical journey, `simulator.presets.canonical_cohort`) three ways
while a probe on the event loop sleeps 10 ms at a time and records how late it wakes: with no
simulation (the baseline), in the child process as the API does, and in a worker thread of the
same process (what the child process spares the API: the GIL makes a CPU-bound thread starve the
loop). Prints the lag's p50/p99/max for each, the wall time of each run, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

from api.services.simulation_runner import ProcessRunner, SimulationJob, run_job
from domain.templates import canonical_journey
from simulator.presets import canonical_cohort, canonical_options

TICK = 0.01


async def _lags(work: Callable[[], Coroutine[Any, Any, object]]) -> tuple[list[float], float]:
    """How late (ms) each 10 ms sleep woke while `work` ran, and the work's wall time."""
    lags: list[float] = []
    began = time.perf_counter()
    task: asyncio.Task[object] = asyncio.create_task(work())
    while not task.done():
        before = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append((time.perf_counter() - before - TICK) * 1000)
    await task
    return lags, time.perf_counter() - began


def _line(name: str, lags: list[float], wall: float) -> str:
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<16} lag p50 {statistics.median(ordered):6.2f} ms  p99 {p99:7.2f} ms  "
        f"max {ordered[-1]:7.2f} ms  ({len(ordered)} ticks, run {wall:.1f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    job = SimulationJob(
        definition=canonical_journey(),
        options=canonical_options(days=args.days),
        synthetic=canonical_cohort(args.customers),
    )

    async def progress(done: int, total: int) -> None:
        return None

    async def idle() -> None:
        await asyncio.sleep(3)

    async def in_process() -> object:
        return await ProcessRunner().run(job, progress)

    async def in_thread() -> object:
        return await asyncio.to_thread(run_job, job, lambda done, total: None)

    base, base_wall = await _lags(idle)
    child, child_wall = await _lags(in_process)
    thread, thread_wall = await _lags(in_thread)
    print(f"customers        {args.customers} x {args.days} days, canonical journey")
    print(_line("no simulation", base, base_wall))
    print(_line("child process", child, child_wall))
    print(_line("worker thread", thread, thread_wall))

    def p99(values: list[float]) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]

    def p50(values: list[float]) -> float:
        return max(statistics.median(values), 0.01)

    print(
        f"lag ratios       thread/process p50 {p50(thread) / p50(child):.1f}x, "
        f"p99 {p99(thread) / max(p99(child), 0.01):.1f}x; "
        f"process/baseline p50 {p50(child) / p50(base):.1f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
