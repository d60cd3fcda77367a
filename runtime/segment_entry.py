"""The `segment.enroll` activity: a scheduled run of segment entry, carried out in the worker.

It lives in the composition root because it needs what the API's segment entry uses (the
enrollment service, its merge handling): each run records an `enroll` operation (created by
`schedule:<id>`) and enrolls the segment as it is now, as `enrollSegment` does, so a scheduled
run shows in `operations` with its progress like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.client import Client

from api.services.enrollments import EnrollmentService
from api.services.segments import SegmentEntry
from store.database import Store
from store.ids import new_id
from store.operations import BulkOperation, LeaseLostError
from workflows.segment_entry import SEGMENT_ENROLL, SegmentEntryInput

LEASE = timedelta(hours=2)


def _now() -> datetime:
    return datetime.now(UTC)


class SegmentActivities:
    """Segment entry for the workers (one per worker process)."""

    def __init__(self, store: Store, temporal: Client) -> None:
        self._store = store
        self._segments = SegmentEntry(
            store, EnrollmentService(store, temporal).enroll, _now, lease=LEASE
        )

    @activity.defn(name=SEGMENT_ENROLL)
    async def enroll_segment(self, input: SegmentEntryInput) -> str:
        """Enroll the schedule's segment now; the id of the operation recording it."""
        repo = self._store.operations
        now = _now()
        operation = BulkOperation(
            id=new_id("op"),
            tenant_id=input.tenant_id,
            kind="enroll",
            journey_id=input.journey_id,
            segment=dict(input.segment),
            per_second=input.per_second,
            created_by=f"schedule:{input.schedule_id}",
            created_at=now,
        )
        await repo.create(operation)
        claimed = await repo.claim(input.tenant_id, operation.id, now=now, lease_until=now + LEASE)
        assert claimed is not None
        try:
            await self._segments.work(claimed)
        except LeaseLostError:
            return operation.id  # stalled past the lease: the process that took it over ends it
        except BaseException as exc:  # cancelled (timed out) included: never left `running`
            await repo.finish(
                input.tenant_id,
                operation.id,
                "failed",
                _now(),
                error=type(exc).__name__,
                attempt=claimed.attempts,
            )
            raise
        final = await repo.get(input.tenant_id, operation.id)
        failed = final is not None and final.failed > 0
        await repo.finish(
            input.tenant_id,
            operation.id,
            "failed" if failed else "succeeded",
            _now(),
            total_at_least=final.handled if final is not None else 0,
            attempt=claimed.attempts,
        )
        return operation.id
