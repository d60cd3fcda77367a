"""Event types: stored events, the ingestion input, and per-event ingestion results."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import FieldError
from api.services.ingest import IngestResult
from domain.events import Event as EventModel


@strawberry.type
class Event:
    """A stored event of a customer."""

    id: strawberry.ID
    type: str
    customer_id: str
    identity: JSON = strawberry.field(description="Identity kind → value, as sent (normalized).")
    timestamp: datetime
    properties: JSON
    received_at: datetime

    @classmethod
    def of(cls, model: EventModel) -> Event:
        return cls(
            id=strawberry.ID(model.id),
            type=model.type,
            customer_id=model.customer_id,
            identity=JSON(dict(model.identity)),
            timestamp=model.timestamp,
            properties=JSON(dict(model.properties)),
            received_at=model.received_at,
        )


@strawberry.input
class IdentityInput:
    """One identity of the customer (`phone`, `unionid`, `wecom_external_userid`...)."""

    kind: str
    value: str


@strawberry.input
class EventInput:
    """An event to ingest; `id` is the client's idempotency id."""

    id: str
    type: str
    identities: list[IdentityInput]
    timestamp: datetime = strawberry.field(description="Must carry a time zone.")
    properties: JSON | None = None

    def raw(self) -> dict[str, object]:
        """The plain form the ingestion service validates (as a REST body would carry it)."""
        return {
            "id": self.id,
            "type": self.type,
            "identity": {identity.kind: identity.value for identity in self.identities},
            "timestamp": self.timestamp,
            "properties": {} if self.properties is None else self.properties,
        }


@strawberry.type
class RoutedEnrollment:
    """An enrollment an event started or was delivered to.

    `action`: `enrolled` (signal-with-start), `already_enrolled` (re-entry not allowed),
    `signalled` (delivered to a running enrollment) or `not_running` (it had just ended).
    """

    enrollment_id: str
    journey_id: str
    action: str


@strawberry.type
class EventIngestResult:
    """The fate of one event: `accepted`, `duplicate`, `rejected` or `failed` (not stored)."""

    index: int
    event_id: str | None
    status: str
    customer_id: str | None
    customer_created: bool
    errors: list[FieldError]
    enrollments: list[RoutedEnrollment]
    notes: list[str]
    routing_error: str | None = strawberry.field(
        description="Set when the event is stored but could not be routed to journeys."
    )

    @classmethod
    def of(cls, result: IngestResult) -> EventIngestResult:
        return cls(
            index=result.index,
            event_id=result.event_id,
            status=result.status,
            customer_id=result.customer_id,
            customer_created=result.customer_created,
            errors=[FieldError.of(p) for p in result.errors],
            enrollments=[
                RoutedEnrollment(
                    enrollment_id=r.enrollment_id, journey_id=r.journey_id, action=r.action
                )
                for r in result.routes
            ],
            notes=list(result.notes),
            routing_error=result.routing_error,
        )


@strawberry.type
class IngestEventsPayload:
    """Per-event results, in input order, and their counts."""

    accepted: int
    duplicates: int
    rejected: int
    failed: int
    results: list[EventIngestResult]

    @classmethod
    def of(cls, results: list[IngestResult]) -> IngestEventsPayload:
        def count(status: str) -> int:
            return sum(1 for r in results if r.status == status)

        return cls(
            accepted=count("accepted"),
            duplicates=count("duplicate"),
            rejected=count("rejected"),
            failed=count("failed"),
            results=[EventIngestResult.of(r) for r in results],
        )
