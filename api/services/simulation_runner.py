"""Running a simulation off the event loop: in a child process, reporting progress back.

A simulation is CPU work for seconds to a minute. Run on the API's event loop (or in one of its
threads, which the GIL would let it starve) it would stall every request; so `ProcessRunner`
starts a fresh interpreter (`spawn`: nothing of the parent's threads or sockets is inherited),
hands it the job, and reads what it sends back over a pipe: progress every `PROGRESS_EVERY`
seconds at most, then the result as JSON, or why it failed. Cancelling `run` (the operation's
process shutting down) ends the child.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from domain.journey import JourneyDefinition
from simulator.engine import simulate
from simulator.models import SimCustomer, SimulationOptions, SimulationResult, SyntheticCohort

PROGRESS_EVERY = 0.25
JOIN_TIMEOUT = 5.0

Progress = Callable[[int, int], Awaitable[None]]
"""`(customers done, customers in all)`, awaited as the run goes."""


class SimulationFailedError(RuntimeError):
    """The simulation itself raised; the message names the error."""


@dataclass(frozen=True, slots=True)
class SimulationJob:
    """What to simulate: the definition, the cohort (real customers, or a synthetic cohort the
    child generates itself), the options and the decided experiment winners."""

    definition: JourneyDefinition
    options: SimulationOptions
    customers: list[SimCustomer] | None = None
    synthetic: SyntheticCohort | None = None
    winners: Mapping[str, str] = field(default_factory=dict)


class SimulationRunner(Protocol):
    """Runs a `SimulationJob` somewhere other than the event loop."""

    async def run(self, job: SimulationJob, progress: Progress) -> SimulationResult:
        """The result; `SimulationFailedError` when the simulation raised."""
        ...


def run_job(job: SimulationJob, report: Callable[[int, int], None]) -> SimulationResult:
    """Run `job` here and now (what the child process does)."""
    customers: list[SimCustomer] | SyntheticCohort = job.customers or []
    if job.customers is None and job.synthetic is not None:
        customers = job.synthetic  # generated as it goes: never all in memory at once
    return simulate(job.definition, customers, job.options, dict(job.winners), report)


def _child(conn: Connection, job: SimulationJob) -> None:
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY or done >= total:
            last = now
            conn.send(("progress", done, total))

    try:
        result = run_job(job, report)
        conn.send(("result", result.model_dump(mode="json")))
    except Exception as exc:  # sent to the parent, which records it on the operation
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        conn.close()


def _receive(conn: Connection) -> tuple[Any, ...] | None:
    try:
        message: tuple[Any, ...] = conn.recv()
    except (EOFError, OSError):
        return None
    return message


class ProcessRunner:
    """Runs each simulation in a child process of its own."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")

    async def run(self, job: SimulationJob, progress: Progress) -> SimulationResult:
        """The result; `SimulationFailedError` when the simulation raised or the child died."""
        receiver, sender = self._context.Pipe(duplex=False)
        # daemonic: it never outlives this process's exit (it starts no children of its own)
        process = self._context.Process(
            target=_child, args=(sender, job), name="omnijourney-simulation", daemon=True
        )
        try:
            # Starting a spawned child writes the pickled job to it: not on the event loop.
            await asyncio.to_thread(process.start)
            sender.close()  # the child holds its own end: its exit ends `recv`
            while True:
                message = await asyncio.to_thread(_receive, receiver)
                if message is None:
                    raise SimulationFailedError(
                        f"the simulation process ended without a result (exit {process.exitcode})"
                    )
                kind = message[0]
                if kind == "progress":
                    await progress(int(message[1]), int(message[2]))
                elif kind == "result":
                    return SimulationResult.model_validate(message[1])
                else:
                    raise SimulationFailedError(str(message[1]))
        finally:
            if process.is_alive():
                process.terminate()
            if process.pid is not None:
                await asyncio.to_thread(process.join, JOIN_TIMEOUT)
                if process.is_alive():  # deaf to SIGTERM: end it
                    process.kill()
                    await asyncio.to_thread(process.join, JOIN_TIMEOUT)
            receiver.close()
            sender.close()
