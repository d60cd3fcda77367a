"""Bulk operations over a journey's enrollments, segment entry (`api.services.segments`),
simulations (`api.services.simulations`), and test events.

`start` records an operation and runs it in the background (an asyncio task this service owns):
it selects the journey's enrollments the projection shows in the right state (`active` to pause,
`paused` to resume, both to cancel), then signals each workflow through `workflows.client`,
at most `concurrency` at a time, recording progress after every batch.

If the process running an operation dies (or shuts down: `aclose`), the operation stays
`running` until its lease runs out; then the next process that reads it (`get`, `watch`) or
sweeps for such operations (`resume_abandoned`, at the API's start-up and periodically) takes it
over and carries on. Signals are
idempotent (pausing a paused enrollment changes nothing) and the selection is made again, so
enrollments already handled mostly drop out of it; counts continue from where they were, and the
new selection is added to the total.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any, Literal, Protocol

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.services.ports import Clock, utc_now
from api.services.segments import SegmentEntry
from domain.enrollments import EnrollmentStatus
from domain.errors import ConflictError, DomainError, NotFoundError, error_kind
from ingestion.results import IngestResult
from ingestion.service import IngestService
from store.database import Store
from store.ids import new_id
from store.operations import BulkOperation, LeaseLostError, OperationError, OperationKind
from workflows import client as journeys_client

logger = logging.getLogger(__name__)

TARGETS: dict[OperationKind, tuple[EnrollmentStatus, ...]] = {
    "enroll": (),  # customers of a segment, not enrollments: `api.services.segments`
    "migrate": ("active", "paused"),
    "pause": ("active",),
    "resume": ("paused",),
    "cancel": ("active", "paused"),
    "simulate": (),  # customers of a cohort, not enrollments: `api.services.simulations`
}
MAX_ERROR_LENGTH = 300
TEST_PROPERTY = "test"

Outcome = Literal["done", "skipped"] | OperationError


class OperationWork(Protocol):
    """Runs one kind of operation from where it got to (`api.services.simulations.SimulationRuns`)."""

    async def work(self, operation: BulkOperation) -> None:
        """Do the operation's work, recording progress on it as it goes."""
        ...


class OperationService:
    """Starts, runs, takes over and reports bulk operations; sends test events."""

    def __init__(
        self,
        store: Store,
        temporal: Client,
        ingest: IngestService,
        clock: Clock = utc_now,
        *,
        concurrency: int = 8,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 0.5,
        segments: SegmentEntry | None = None,
        simulations: OperationWork | None = None,
    ) -> None:
        self._store = store
        self._segments = segments
        self._simulations = simulations
        self._temporal = temporal
        self._ingest = ingest
        self._clock = clock
        self._concurrency = concurrency
        self._batch = batch
        self._lease = lease
        self._poll_interval = poll_interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._tenant_of: dict[str, str] = {}

    async def start(
        self,
        tenant_id: str,
        kind: OperationKind,
        journey_id: str,
        *,
        created_by: str,
        version: int | None = None,
        reason: str | None = None,
        segment: dict[str, Any] | None = None,
        per_second: float | None = None,
        to_version: int | None = None,
        mapping: dict[str, str] | None = None,
        simulation: dict[str, Any] | None = None,
    ) -> BulkOperation:
        """Record the operation and start running it; `NotFoundError` when there is no such
        journey, `ConflictError` when an `enroll` names a journey that is not published (or a
        `simulate` cannot run in this process)."""
        journey = await self._store.journeys.get(tenant_id, journey_id)
        if kind == "enroll" and (journey.status != "published" or self._segments is None):
            raise ConflictError(f"journey {journey_id!r} is {journey.status}; publish it first")
        if kind == "simulate" and self._simulations is None:
            raise ConflictError("simulation is not available in this process")
        operation = BulkOperation(
            id=new_id("op"),
            tenant_id=tenant_id,
            kind=kind,
            journey_id=journey_id,
            version=version,
            reason=reason,
            segment=segment,
            per_second=per_second,
            to_version=to_version,
            mapping=mapping,
            simulation=simulation,
            created_by=created_by,
            created_at=self._clock(),
        )
        await self._store.operations.create(operation)
        self._launch(tenant_id, operation.id)
        return operation

    async def get(self, tenant_id: str, operation_id: str) -> BulkOperation | None:
        """The operation, or None; one abandoned by a dead process is taken over."""
        operation = await self._store.operations.get(tenant_id, operation_id)
        if operation is not None and self._abandoned(operation):
            self._launch(tenant_id, operation_id)
        return operation

    async def watch(self, tenant_id: str, operation_id: str) -> AsyncIterator[BulkOperation]:
        """The operation now, then each time its progress changes, until it has finished.

        `NotFoundError` when the tenant has no such operation.
        """
        last: tuple[Any, ...] | None = None
        while True:
            operation = await self.get(tenant_id, operation_id)
            if operation is None:
                raise NotFoundError("operation", operation_id)
            seen = (operation.status, operation.total, operation.handled)
            if seen != last:
                last = seen
                yield operation
            if operation.finished:
                return
            await asyncio.sleep(self._poll_interval)

    async def resume_abandoned(self, limit: int = 100) -> int:
        """Take over the operations of any tenant that no live process works on (their lease
        ran out); how many were taken over."""
        now = self._clock()
        found = await self._store.operations.abandoned(
            now=now, pending_before=now - self._lease, limit=limit
        )
        resumed = [(t, op) for t, op in found if op not in self._tasks]
        for tenant_id, operation_id in resumed:
            self._launch(tenant_id, operation_id)
        if resumed:
            logger.info("resuming %d abandoned bulk operations", len(resumed))
        return len(resumed)

    async def drain(self) -> None:
        """Wait for the operations this process is running to finish."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop running operations. They stay `running` with their leases given up, so the next
        process to start (or any other's sweep) takes them over at once rather than after the
        lease would have run out."""
        running = dict(self._tasks)
        tenants = dict(self._tenant_of)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        for operation_id in running:
            tenant_id = tenants.get(operation_id)
            if tenant_id is None:
                continue
            try:
                await self._store.operations.release(tenant_id, operation_id, now=self._clock())
            except Exception:
                # The lease then runs out by itself; shutting down goes on.
                logger.warning("could not give up the lease of operation %s", operation_id)

    async def send_test_event(
        self, tenant_id: str, customer_id: str, event_type: str, properties: Mapping[str, Any]
    ) -> IngestResult:
        """Ingest an event for the customer, marked `test: true` in its properties.

        It goes through ingestion like any event (stored, routed to journeys). `NotFoundError` for an
        unknown customer, `ConflictError` when the customer has no identity to address it to.
        """
        customer = await self._store.customers.get(tenant_id, customer_id)
        if not customer.identities:
            raise ConflictError(f"customer {customer_id!r} has no identity to send an event to")
        identity = customer.identities[0]
        raw = {
            "id": f"test-{secrets.token_hex(8)}",
            "type": event_type,
            "identity": {identity.kind: identity.value},
            "timestamp": self._clock().isoformat(),
            "properties": {**properties, TEST_PROPERTY: True},
        }
        [result] = await self._ingest.ingest(tenant_id, [raw])
        return result

    # -- running --

    def _abandoned(self, operation: BulkOperation) -> bool:
        if operation.finished or operation.id in self._tasks:
            return False
        now = self._clock()
        if operation.status == "pending":
            return operation.created_at < now - self._lease
        return operation.lease_until is None or operation.lease_until < now

    def _launch(self, tenant_id: str, operation_id: str) -> None:
        if operation_id in self._tasks:
            return
        task = asyncio.create_task(self._run(tenant_id, operation_id))
        self._tasks[operation_id] = task
        self._tenant_of[operation_id] = tenant_id
        task.add_done_callback(lambda _: self._forget(operation_id))

    def _forget(self, operation_id: str) -> None:
        self._tasks.pop(operation_id, None)
        self._tenant_of.pop(operation_id, None)

    async def _run(self, tenant_id: str, operation_id: str) -> None:
        now = self._clock()
        repo = self._store.operations
        operation = await repo.claim(
            tenant_id, operation_id, now=now, lease_until=now + self._lease
        )
        if operation is None:
            return  # finished, or another process holds it
        attempt = operation.attempts
        try:
            await self._work(operation)
        except LeaseLostError:
            # Stalled past the lease, and another process took it over: it goes on from there.
            logger.warning("operation %s of tenant %s was taken over", operation_id, tenant_id)
            return
        except Exception as exc:
            logger.exception("operation %s of tenant %s failed", operation_id, tenant_id)
            error = error_kind(exc)
            if operation.kind == "simulate" and isinstance(exc, DomainError):
                # the why matters (a cohort too large); other errors' text stays in the log
                error = f"{error}: {exc}"[:MAX_ERROR_LENGTH]
            await repo.finish(
                tenant_id, operation_id, "failed", self._clock(), error=error, attempt=attempt
            )
            return
        final = await repo.get(tenant_id, operation_id)
        if final is None:
            return
        await repo.finish(
            tenant_id,
            operation_id,
            "failed" if final.failed else "succeeded",
            self._clock(),
            total_at_least=final.handled,
            attempt=attempt,
        )

    async def _work(self, operation: BulkOperation) -> None:
        if operation.kind == "enroll":
            if self._segments is None:
                raise ConflictError("segment entry is not available in this process")
            await self._segments.work(operation)
            return
        if operation.kind == "simulate":
            if self._simulations is None:
                raise ConflictError("simulation is not available in this process")
            await self._simulations.work(operation)
            return
        repo = self._store.operations
        tenant_id, statuses = operation.tenant_id, TARGETS[operation.kind]
        selected = await repo.count_targets(
            tenant_id, operation.journey_id, operation.version, statuses
        )
        await repo.set_total(tenant_id, operation.id, operation.handled + selected)
        limit = asyncio.Semaphore(self._concurrency)
        batches = repo.targets(
            tenant_id, operation.journey_id, operation.version, statuses, self._batch
        )
        async for ids in batches:
            outcomes = await asyncio.gather(*(self._signal(limit, operation, i) for i in ids))
            errors = [o for o in outcomes if isinstance(o, OperationError)]
            await repo.record_progress(
                tenant_id,
                operation.id,
                done=outcomes.count("done"),
                skipped=outcomes.count("skipped"),
                failed=len(errors),
                errors=errors,
                lease_until=self._clock() + self._lease,
                attempt=operation.attempts,
            )

    async def _signal(
        self, limit: asyncio.Semaphore, operation: BulkOperation, enrollment_id: str
    ) -> Outcome:
        async with limit:
            try:
                if operation.kind == "pause":
                    await journeys_client.pause(self._temporal, enrollment_id, operation.reason)
                elif operation.kind == "resume":
                    await journeys_client.resume(self._temporal, enrollment_id)
                elif operation.kind == "migrate":
                    await journeys_client.migrate(
                        self._temporal,
                        enrollment_id,
                        operation.to_version or 0,
                        dict(operation.mapping or {}),
                    )
                else:
                    await journeys_client.cancel(
                        self._temporal, enrollment_id, operation.reason or "cancelled"
                    )
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return "skipped"  # it ended after the projection was read
                return OperationError(
                    enrollment_id=enrollment_id, message=str(exc)[:MAX_ERROR_LENGTH]
                )
        return "done"
