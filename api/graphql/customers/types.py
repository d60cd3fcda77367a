"""Customer types: the profile, its identities and its timeline."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import Connection, described_field, page_limit
from api.graphql.context import Info
from api.graphql.enrollments.types import Delivery, Enrollment, EnrollmentStatus, Transition
from api.graphql.events.types import Event
from domain.customers import Customer as CustomerModel
from store.timeline import TimelineEntry as TimelineEntryModel


@strawberry.type
class Identity:
    """One way a channel knows the customer."""

    kind: str
    value: str


@strawberry.type
class TimelineEntry:
    """One line of a customer's history; exactly one of `event`, `delivery`, `transition` is set."""

    kind: str
    at: datetime
    event: Event | None
    delivery: Delivery | None
    transition: Transition | None

    @classmethod
    def of(cls, model: TimelineEntryModel) -> TimelineEntry:
        return cls(
            kind=model.kind,
            at=model.at,
            event=None if model.event is None else Event.of(model.event),
            delivery=None if model.delivery is None else Delivery.of(model.delivery),
            transition=None if model.transition is None else Transition.of(model.transition),
        )


@strawberry.type
class Customer:
    """One person across channels."""

    id: strawberry.ID
    identities: list[Identity]
    tags: list[str]
    attributes: JSON
    consent: JSON = strawberry.field(description="Channel → whether the customer agreed.")
    first_touch_hook: str | None
    merged_into: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, model: CustomerModel) -> Customer:
        return cls(
            id=strawberry.ID(model.id),
            identities=[Identity(kind=i.kind, value=i.value) for i in model.identities],
            tags=list(model.tags),
            attributes=JSON(dict(model.attributes)),
            consent=JSON(dict(model.consent)),
            first_touch_hook=model.first_touch_hook,
            merged_into=model.merged_into,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )

    @described_field("Events, deliveries and journey steps, oldest first.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[TimelineEntry]:
        page = await info.context.services.store.timeline.for_customer(
            info.context.tenant_id, self.id, cursor=after, limit=page_limit(first)
        )
        return Connection.of(page, TimelineEntry.of)

    @described_field("The customer's enrollments in start order.")
    async def enrollments(
        self,
        info: Info,
        status: EnrollmentStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Enrollment]:
        page = await info.context.services.store.enrollments.list(
            info.context.tenant_id,
            customer_id=self.id,
            status=None if status is None else status.value,
            cursor=after,
            limit=page_limit(first),
        )
        return Connection.of(page, Enrollment.of)
