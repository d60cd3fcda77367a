"""Enrollment records for store tests: acme's journey jrn_1 (version 1), for cus_1 unless told."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.enrollments import Enrollment, Transition, enrollment_id

EID = enrollment_id("acme", "jrn_1", "cus_1")


def enrollment_record(
    node: str, *, started: datetime, seq: int = 1, customer_id: str = "cus_1", **changes: Any
) -> Enrollment:
    """The customer's projection at `node` after `seq` steps, updated `seq` minutes after it
    started; `changes` set any other field."""
    base = Enrollment(
        id=enrollment_id("acme", "jrn_1", customer_id),
        tenant_id="acme",
        journey_id="jrn_1",
        version=1,
        customer_id=customer_id,
        current_node=node,
        started_at=started,
        updated_at=started + timedelta(minutes=seq),
        seq=seq,
    )
    return base.model_copy(update=changes)


def transition_record(seq: int, to_node: str | None, at: datetime, **fields: Any) -> Transition:
    """Step `seq` of cus_1's enrollment, to `to_node` along "next"; `fields` set any other."""
    values: dict[str, Any] = {
        "tenant_id": "acme",
        "enrollment_id": EID,
        "journey_id": "jrn_1",
        "version": 1,
        "customer_id": "cus_1",
        "label": "next",
        **fields,
    }
    return Transition(seq=seq, to_node=to_node, at=at, **values)
