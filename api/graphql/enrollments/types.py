"""Enrollment types: the projection, its transitions and its deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import Connection, described_field, page_limit
from api.graphql.context import Info
from api.graphql.journeys.types import Journey
from domain.deliveries import Delivery as DeliveryModel
from domain.enrollments import Enrollment as EnrollmentModel
from domain.enrollments import Transition as TransitionModel
from domain.enrollments import WaitInfo
from domain.errors import NotFound


@strawberry.enum
class EnrollmentStatus(Enum):
    """`ACTIVE` and `PAUSED` are running; the others are final."""

    ACTIVE = "active"
    PAUSED = "paused"
    CONVERTED = "converted"
    EXITED = "exited"
    CANCELLED = "cancelled"
    FAILED = "failed"


@strawberry.type
class Wait:
    """What a waiting enrollment waits for: `timer`, `event` (until a deadline) or `action`."""

    kind: str
    until: datetime | None
    event_type: str | None

    @classmethod
    def of(cls, wait: WaitInfo) -> Wait:
        return cls(kind=wait.kind, until=wait.until, event_type=wait.event_type)


@strawberry.type
class Transition:
    """One step: from a node to another along a labelled edge."""

    seq: int
    from_node: str | None
    to_node: str | None
    label: str
    at: datetime
    reason: str | None

    @classmethod
    def of(cls, model: TransitionModel) -> Transition:
        return cls(
            seq=model.seq,
            from_node=model.from_node,
            to_node=model.to_node,
            label=model.label,
            at=model.at,
            reason=model.reason,
        )


@strawberry.type
class Delivery:
    """One channel action performed (or attempted) for an enrollment step."""

    idempotency_key: str
    enrollment_id: str
    journey_id: str
    node_id: str
    channel: str
    action: str
    status: str
    attempts: int
    external_id: str | None
    error: str | None
    detail: JSON
    created_at: datetime
    updated_at: datetime

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


@strawberry.type
class Enrollment:
    """A customer's walk through one journey version, as last recorded by its workflow."""

    id: strawberry.ID
    journey_id: str
    version: int
    customer_id: str
    status: EnrollmentStatus
    current_node: str | None
    wait: Wait | None
    path: list[str] = strawberry.field(description="The last node ids visited, oldest first.")
    converted: bool
    converted_at: datetime | None
    goal_id: str | None
    exit_reason: str | None
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, model: EnrollmentModel) -> Enrollment:
        return cls(
            id=strawberry.ID(model.id),
            journey_id=model.journey_id,
            version=model.version,
            customer_id=model.customer_id,
            status=EnrollmentStatus(model.status),
            current_node=model.current_node,
            wait=None if model.wait is None else Wait.of(model.wait),
            path=list(model.path),
            converted=model.converted_at is not None,
            converted_at=model.converted_at,
            goal_id=model.goal_id,
            exit_reason=model.exit_reason,
            started_at=model.started_at,
            updated_at=model.updated_at,
            ended_at=model.ended_at,
        )

    @strawberry.field
    async def journey(self, info: Info) -> Journey | None:
        try:
            model = await info.context.services.store.journeys.get(
                info.context.tenant_id, self.journey_id
            )
        except NotFound:
            return None
        return Journey.of(model)

    @described_field("Steps in order.")
    async def transitions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Transition]:
        page = await info.context.services.store.enrollments.transitions_for_enrollment(
            info.context.tenant_id, self.id, cursor=after, limit=page_limit(first)
        )
        return Connection.of(page, Transition.of)

    @described_field("Channel actions, oldest first.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Delivery]:
        page = await info.context.services.store.deliveries.list_for_enrollment(
            info.context.tenant_id, self.id, cursor=after, limit=page_limit(first)
        )
        return Connection.of(page, Delivery.of)
