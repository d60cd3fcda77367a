"""Segment entry: enroll every customer matching a customer search (the `customers` filter) in a
journey, as a tracked bulk operation (`api.services.operations`, kind `enroll`).

The scan walks the segment in customer-id order a page at a time, enrolling each customer on the
journey's live version as `enrollCustomer` does (so its re-entry policy holds: a customer already
enrolled where the policy forbids another is `skipped`), at most `per_second` enrollments a
second, and records after each page how far it got (`cursor`). A process that takes the
operation over resumes at the cursor; a page it redoes is harmless (those customers come back
`skipped`). The segment is evaluated as the scan goes: a customer who joins it before the scan
reaches them is enrolled, one who leaves it is not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.service import RPCError

from api.services.ports import Clock
from domain.enrollments import enrollment_id
from domain.errors import NotFoundError, ReentryNotAllowedError
from store.customers.search import CustomerSearch
from store.database import Store
from store.operations import BulkOperation, OperationError
from workflows.client import EnrollOutcome

Enroll = Callable[[str, str, str], Awaitable[EnrollOutcome]]
"""(tenant, journey, customer) → the outcome of enrolling them (`EnrollmentService.enroll`)."""

MAX_ERROR_LENGTH = 300


class SegmentEntry:
    """Runs `enroll` operations."""

    def __init__(
        self,
        store: Store,
        enroll: Enroll,
        clock: Clock,
        *,
        page: int = 50,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._store = store
        self._enroll = enroll
        self._clock = clock
        self._page = page
        self._lease = lease

    async def work(self, operation: BulkOperation) -> None:
        """Enroll the segment from where the operation got to."""
        repo = self._store.operations
        tenant_id = operation.tenant_id
        search = CustomerSearch(**(operation.segment or {}))
        cursor = operation.cursor
        if cursor is None:
            total = await self._store.customers.count(tenant_id, search)
            await repo.set_total(tenant_id, operation.id, operation.handled + (total or 0))
        # A page is recorded (and the lease extended) within half a lease, however slow the pace.
        size = self._page
        if operation.per_second:
            half_lease = self._lease.total_seconds() / 2
            size = max(1, min(size, int(operation.per_second * half_lease)))
        while True:
            began = time.monotonic()
            page = await self._store.customers.search(tenant_id, search, cursor=cursor, limit=size)
            outcomes = []
            for customer in page.items:
                outcomes.append(await self._one(operation, customer.id))
                if operation.per_second:
                    await _pace(began, len(outcomes), operation.per_second)
            cursor = page.next_cursor
            errors = [outcome for outcome in outcomes if isinstance(outcome, OperationError)]
            await repo.record_progress(
                tenant_id,
                operation.id,
                done=outcomes.count("done"),
                skipped=outcomes.count("skipped"),
                failed=len(errors),
                errors=errors,
                lease_until=self._clock() + self._lease,
                cursor=cursor,
                attempt=operation.attempts,
            )
            if cursor is None:
                return  # an empty page with a cursor: the scan goes on past a sparse stretch

    async def _one(self, operation: BulkOperation, customer_id: str) -> str | OperationError:
        try:
            outcome = await self._enroll(operation.tenant_id, operation.journey_id, customer_id)
        except (NotFoundError, ReentryNotAllowedError):
            return "skipped"  # merged away meanwhile, or the policy forbids another
        except RPCError as exc:
            return OperationError(
                enrollment_id=enrollment_id(operation.tenant_id, operation.journey_id, customer_id),
                message=str(exc)[:MAX_ERROR_LENGTH],
            )
        return "skipped" if outcome.status == "already_enrolled" else "done"


def pace_delay(elapsed: float, started: int, per_second: float) -> float:
    """How long to wait so that `started` enrollments over `elapsed` seconds stay at most
    `per_second` a second (0 when already slow enough)."""
    return max(0.0, started / per_second - elapsed)


async def _pace(began: float, started: int, per_second: float) -> None:
    delay = pace_delay(time.monotonic() - began, started, per_second)
    if delay > 0:
        await asyncio.sleep(delay)
