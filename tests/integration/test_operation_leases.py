"""A bulk operation's lease fences its writers: a process that stalled past its lease, while
another claimed the operation, can neither count progress, move the cursor nor finish it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.database import Store
from store.operations import BulkOperation, LeaseLostError

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def test_a_writer_whose_claim_was_taken_over_writes_nothing(store: Store) -> None:
    repo = store.operations
    await repo.create(
        BulkOperation(
            id="op_fenced",
            tenant_id="acme",
            kind="enroll",
            journey_id="jrn_1",
            segment={},
            created_by="key_1",
            created_at=T0,
        )
    )
    first = await repo.claim("acme", "op_fenced", now=T0, lease_until=T0 + LEASE)
    assert first is not None
    # The first process stalls past its lease; a second one (another replica's sweep) claims it.
    later = T0 + 2 * LEASE
    second = await repo.claim("acme", "op_fenced", now=later, lease_until=later + LEASE)
    assert second is not None and second.attempts == first.attempts + 1

    progress = {"done": 5, "skipped": 0, "failed": 0, "errors": [], "lease_until": later + LEASE}
    with pytest.raises(LeaseLostError):
        await repo.record_progress(
            "acme", "op_fenced", **progress, cursor="stale", attempt=first.attempts
        )
    assert (
        await repo.finish("acme", "op_fenced", "succeeded", later, attempt=first.attempts) is None
    )
    await repo.record_progress(
        "acme", "op_fenced", **progress, cursor="c2", attempt=second.attempts
    )

    stored = await repo.get("acme", "op_fenced")
    assert stored is not None
    assert (stored.status, stored.done, stored.cursor) == ("running", 5, "c2")
    finished = await repo.finish("acme", "op_fenced", "succeeded", later, attempt=second.attempts)
    assert finished is not None and finished.status == "succeeded"
