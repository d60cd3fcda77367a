"""Periodic sweeps: work another process (or a failed attempt) left unfinished is carried on.

A process that dies or shuts down mid-way leaves work whose state is in MongoDB: events stored
but never routed (`RoutingScheduler.recover`), bulk operations still `running` under a lease
that runs out, customer merges half-done or with enrollments not settled. `Sweeps` runs each job once at start-up and then every `interval`
seconds, in a task it owns, so that work finishes even when nobody reads it. A failing job is
logged and tried again at the next round; the others still run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class Sweeps:
    """Named jobs run at start-up and periodically until `stop`."""

    def __init__(self, jobs: Sequence[tuple[str, Job]]) -> None:
        self._jobs = list(jobs)
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> None:
        """Run every job once, in order."""
        for name, job in self._jobs:
            try:
                await job()
            except Exception:
                logger.exception("sweep %r failed; trying again next round", name)

    def start(self, interval: float) -> None:
        """Run the jobs now and then every `interval` seconds (once started, no-op)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._every(interval))

    async def stop(self) -> None:
        """Stop the loop (a round under way is cancelled: every job is safe to stop)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _every(self, interval: float) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(interval)
