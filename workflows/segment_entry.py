"""`SegmentEntryWorkflow`: one run of a scheduled segment entry, started by a Temporal Schedule.

Each time the schedule fires (its cron in its time zone), a run of this workflow asks the
`segment.enroll` activity (`runtime.segment_entry`, which has the services segment entry needs)
to enroll the segment as it is now: a tracked `enroll` operation, re-entry rules respected. The
workflow only sequences; all I/O is the activity's.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.models import JOURNEYS_TASK_QUEUE

TASK_QUEUE = JOURNEYS_TASK_QUEUE
"""Where the runs are served (beside the journeys)."""

SEGMENT_ENROLL = "segment.enroll"
"""The activity enrolling one run's segment; it answers the operation's id."""


class SegmentEntryInput(BaseModel):
    """What a schedule's runs enroll."""

    tenant_id: str
    journey_id: str
    schedule_id: str
    segment: dict[str, object] = Field(default_factory=dict)
    per_second: float | None = None


@workflow.defn(name="SegmentEntry")
class SegmentEntryWorkflow:
    """One scheduled enrollment of a segment."""

    @workflow.run
    async def run(self, input: SegmentEntryInput) -> str:
        operation_id: str = await workflow.execute_activity(
            SEGMENT_ENROLL,
            input,
            result_type=str,
            start_to_close_timeout=timedelta(hours=2),
            # Not retried: a retry would start the segment over (the next run re-evaluates it).
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return operation_id
