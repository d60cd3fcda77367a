"""What the scale benchmarks share: every part in its own OS process, and readings of those.

`process_stack(root)` starts SecantusDB and the Temporal dev server as child processes with their
data under `root` (`bench.fault_stack.FaultStack`), opens the benchmark's own resources on them
(it seeds, enrolls and watches; it runs no worker) and yields an `AppStack` that starts
`omnijourney worker` / `omnijourney api` processes configured only through their environment, as
in production. Each process's memory and CPU time are read from `/proc/<pid>` (Linux):
`rss_mb` is `VmRSS` of `/proc/<pid>/status`, `cpu_seconds` is utime + stime of `/proc/<pid>/stat`
(all of the process's threads, Temporal's Rust core included).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import cpu_seconds
from bench.fault_stack import FaultStack, WorkerProcess, stack_env
from domain.journey import JourneyDefinition
from runtime.processes import free_port
from runtime.resources import Resources, open_resources
from runtime.settings import Settings

DATABASE = "omnijourney_bench"


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (`VmRSS`)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for process {pid}")


def tree_bytes(path: Path) -> int:
    """Bytes of the files under `path` (what a server's data takes on disk)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@dataclass
class AppStack:
    """The servers, the environment app processes get, and the benchmark's own resources."""

    root: Path
    servers: FaultStack
    env: dict[str, str]
    res: Resources
    started: list[WorkerProcess] = field(default_factory=list)

    def servers_pids(self) -> dict[str, int]:
        """The servers' process ids by name (`temporal`, `mongodb`)."""
        pids = {"temporal": self.servers.temporal.pid, "mongodb": self.servers.mongodb.pid}
        return {name: pid for name, pid in pids.items() if pid is not None}

    def worker(self, name: str, **env: str) -> WorkerProcess:
        """Start `omnijourney worker` with the stack's environment and `env` on top."""
        process = WorkerProcess({**self.env, **env}, self.root / "logs" / f"{name}.log")
        process.start()
        self.started.append(process)
        return process

    @contextlib.asynccontextmanager
    async def api(self, **env: str) -> AsyncIterator[tuple[WorkerProcess, str]]:
        """`omnijourney api` on a free port, ready (`/readyz` answers 200); yields it and its
        base URL."""
        port = free_port()
        process = WorkerProcess(
            {**self.env, "API_PORT": str(port), "API_RATE_LIMIT": "0", **env},
            self.root / "logs" / "api.log",
            command="api",
        )
        process.start()
        self.started.append(process)
        base_url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
                for _ in range(600):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    if not process.running:
                        raise RuntimeError(f"the api exited; see {process.log_path}")
                    await asyncio.sleep(0.1)
                else:
                    raise TimeoutError("the api was not ready within 60 s")
            yield process, base_url
        finally:
            process.stop()

    def stop(self, process: WorkerProcess) -> None:
        process.stop()
        self.started.remove(process)


@contextlib.asynccontextmanager
async def process_stack(root: Path) -> AsyncIterator[AppStack]:
    """Servers under `root` as processes, and the benchmark's resources on them; every process
    started through the yielded stack is stopped on the way out."""
    with FaultStack(root) as servers:
        env = {**stack_env(servers, []), "MONGODB_DATABASE": DATABASE}
        settings = Settings.model_validate(
            {
                **{name.lower(): value for name, value in env.items()},
                "data_dir": root,
                "log_level": "WARNING",
            }
        )
        async with open_resources(settings, servers.mongodb_uri, servers.temporal_address) as res:
            stack = AppStack(root, servers, env, res)
            try:
                yield stack
            finally:
                for process in stack.started:
                    process.stop()


async def publish(
    res: Resources, tenant_id: str, name: str, definition: JourneyDefinition
) -> tuple[str, int]:
    """Create and publish a journey; its id and version."""
    now = datetime.now(UTC)
    journey = await res.store.journeys.create(tenant_id, name, now, draft=definition)
    version = await res.store.journeys.publish(tenant_id, journey.id, definition, [], now)
    return journey.id, version


@contextlib.contextmanager
def cpu_meter(pids: dict[str, int]) -> Iterator[dict[str, float]]:
    """CPU seconds each named process (and `bench`, this one) spends inside the block."""
    names = {**pids, "bench": os.getpid()}
    before = {name: cpu_seconds(pid) for name, pid in names.items()}
    used: dict[str, float] = {}
    try:
        yield used
    finally:
        used.update({name: cpu_seconds(pid) - before[name] for name, pid in names.items()})
