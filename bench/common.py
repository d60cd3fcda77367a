"""What the benchmarks share: a throw-away embedded stack, a read counter, the customer page's data.

`tests/api/test_dataloaders.py` seeds and counts with the same pieces, so that what the test
asserts about the customer page is what the benchmark times.
"""

from __future__ import annotations

import contextlib
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
