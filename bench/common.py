"""What the benchmarks share: a throw-away embedded stack, a read counter, the customer page's data.

`tests/api/test_dataloaders.py` seeds and counts with the same pieces, so that what the test
asserts about the customer page is what the benchmark times.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pymongo import monitoring

from domain.customers import EXTERNAL_USERID, PHONE
from domain.deliveries import Delivery
from domain.enrollments import Enrollment
from runtime.embedded import EmbeddedStack
from runtime.processes import free_port
from runtime.resources import Resources, open_resources
from runtime.settings import Settings
from store.database import Store

READS = ("find", "aggregate", "count", "distinct", "getMore")
PAGE_JOURNEYS = ("jrn_welcome", "jrn_repurchase")


@contextlib.asynccontextmanager
async def embedded_resources() -> AsyncIterator[tuple[EmbeddedStack, Resources]]:
    """An embedded stack (SecantusDB, Temporal dev server) on free ports in a temporary
    directory, and the resources opened on it; all of it is gone on the way out."""
    with tempfile.TemporaryDirectory(prefix="omnijourney-bench-") as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            embedded_temporal_port=free_port(),
            temporal_ui_port=free_port(),
            embedded_mongodb_port=free_port(),
            log_level="WARNING",
        )
        with EmbeddedStack(settings) as stack:
            async with open_resources(settings, stack.mongodb_uri, stack.temporal_address) as res:
                yield stack, res


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time process `pid` (default: this one) has used so far (Linux
    `/proc/<pid>/stat`; the command name before `)` may hold spaces)."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


@dataclass
class CpuMeter:
    """CPU seconds spent by this process (worker and client), the Temporal server and the
    MongoDB-wire server between two readings: where a benchmark's time goes."""

    pids: dict[str, int]

    @classmethod
    def of(cls, stack: EmbeddedStack) -> CpuMeter:
        pids = {"worker+client": os.getpid()}
        for name, process in (("Temporal", stack.temporal), ("MongoDB", stack.mongodb)):
            if process is not None and process.pid is not None:
                pids[name] = process.pid
        return cls(pids)

    def read(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    @staticmethod
    def per_item(before: dict[str, float], after: dict[str, float], count: int) -> str:
        """`name X ms` per item for each process, and the total."""
        spent = {name: (after[name] - before[name]) * 1000 / count for name in before}
        parts = [f"{name} {ms:.1f}" for name, ms in spent.items()]
        return "CPU ms/item: " + ", ".join(parts) + f", total {sum(spent.values()):.1f}"


@dataclass
class ReadCounter(monitoring.CommandListener):
    """Counts read commands per collection while measuring; `commands` are the ones counted."""

    commands: tuple[str, ...] = READS
    reads: Counter[str] = field(default_factory=Counter)
    counting: bool = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.counting and event.command_name in self.commands:
            # getMore names its cursor; its collection is a separate field
            name = event.command_name
            target = event.command["collection" if name == "getMore" else name]
            self.reads[f"{name} {target}"] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextmanager
    def measure(self) -> Iterator[Counter[str]]:
        """The reads made inside the block, counted afresh."""
        self.reads = Counter()
        self.counting = True
        try:
            yield self.reads
        finally:
            self.counting = False


async def seed_customer_page(store: Store, tenant_id: str, count: int, at: datetime) -> None:
    """`count` customers, each with 2 identities, 2 tags (`source:douyin`, `stage:<n % 3>`) and
    an enrollment in each of `PAGE_JOURNEYS`, waiting at `await_order` with 1 pending delivery."""
    for n in range(count):
        customer, _ = await store.customers.resolve(
            tenant_id, {PHONE: f"139{n:08d}", EXTERNAL_USERID: f"wm-{n}"}, at
        )
        await store.customers.update_profile(
            tenant_id, customer.id, at, add_tags=["source:douyin", f"stage:{n % 3}"]
        )
        for j, journey in enumerate(PAGE_JOURNEYS):
            enrollment_id = f"{tenant_id}:{journey}:{customer.id}"
            started = at + timedelta(minutes=j)
            await store.enrollments.upsert_projection(
                Enrollment(
                    id=enrollment_id,
                    tenant_id=tenant_id,
                    journey_id=journey,
                    version=1,
                    customer_id=customer.id,
                    current_node="await_order",
                    path=["start", "welcome", "await_order"],
                    started_at=started,
                    updated_at=started,
                    seq=1,
                )
            )
            await store.deliveries.begin(
                Delivery(
                    tenant_id=tenant_id,
                    idempotency_key=f"{enrollment_id}/welcome/1",
                    enrollment_id=enrollment_id,
                    customer_id=customer.id,
                    journey_id=journey,
                    node_id="welcome",
                    channel="sandbox",
                    action="send_message",
                    created_at=started,
                    updated_at=started,
                )
            )
