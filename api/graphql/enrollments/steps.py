"""What an enrollment did: its transitions (steps between nodes) and its deliveries (channel
actions)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from domain.deliveries import Delivery as DeliveryModel
from domain.enrollments import Transition as TransitionModel


@strawberry.type(description="One step of an enrollment: from a node to another along an edge.")
class Transition:
    seq: int = strawberry.field(
        description="Step number within the enrollment's run: 1 for its first step (into the "
        "entry node), one more for each step after; a re-entered run counts from 1 again."
    )
    from_node: str | None = strawberry.field(description="The node left; null for the entry.")
    to_node: str | None = strawberry.field(description="The node reached; null when it ended.")
    label: str = strawberry.field(
        description="The edge taken (`next`, `matched`, `timed_out`, a branch label...)."
    )
    at: datetime = strawberry.field(description="When the step was taken (workflow time).")
    reason: str | None = strawberry.field(description="Why, when the step ended the enrollment.")
    enrollment_id: str = strawberry.field(description="The enrollment it belongs to.")
    journey_id: str = strawberry.field(description="The journey.")
    version: int = strawberry.field(description="The journey version.")

    @classmethod
    def of(cls, model: TransitionModel) -> Transition:
        return cls(
            seq=model.seq,
            from_node=model.from_node,
            to_node=model.to_node,
            label=model.label,
            at=model.at,
            reason=model.reason,
            enrollment_id=model.enrollment_id,
            journey_id=model.journey_id,
            version=model.version,
        )


@strawberry.type(description="One channel action performed (or attempted) for an enrollment step.")
class Delivery:
    idempotency_key: str = strawberry.field(
        description="`<enrollment>:<run>:<node>:<visit>`: the enrollment id, the run's start in "
        "epoch milliseconds (absent from keys of runs started before runs were told apart), the "
        "action node, and which visit of that node in the run it is (from 1). The action is "
        "performed at most once per key."
    )
    enrollment_id: str = strawberry.field(description="The enrollment it was performed for.")
    journey_id: str = strawberry.field(description="The journey.")
    node_id: str = strawberry.field(description="The action node.")
    channel: str = strawberry.field(description="The channel (`sandbox`, `webhook`, `wecom`...).")
    action: str = strawberry.field(description="The channel's action (`send_message`...).")
    status: str = strawberry.field(
        description="`pending`, `succeeded`, `failed`, or `skipped` (never attempted: the "
        "customer opted out of the channel; `error` says so)."
    )
    attempts: int = strawberry.field(description="Finished attempts, failed or not.")
    external_id: str | None = strawberry.field(
        description="The channel's id for what it did (message id, task id)."
    )
    error: str | None = strawberry.field(
        description="The last failure's message, or why it was skipped "
        "(`consent_opted_out: ...`), if any."
    )
    detail: JSON = strawberry.field(description="What the channel reported, as JSON.")
    created_at: datetime = strawberry.field(description="When it was first attempted.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")

    @classmethod
    def of(cls, model: DeliveryModel) -> Delivery:
        return cls(
            idempotency_key=model.idempotency_key,
            enrollment_id=model.enrollment_id,
            journey_id=model.journey_id,
            node_id=model.node_id,
            channel=model.channel,
            action=model.action,
            status=model.status,
            attempts=model.attempts,
            external_id=model.external_id,
            error=model.error,
            detail=JSON(dict(model.detail)),
            created_at=model.created_at,
            updated_at=model.updated_at,
        )
