"""Event types: stored events, the ingestion input, and per-event ingestion results."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import FieldError
from domain.events import Event as EventModel
from ingestion.results import IngestResult


@strawberry.type(description="A stored event of a customer: something they did, as reported.")
class Event:
    """A stored event of a customer."""

    id: strawberry.ID = strawberry.field(
        description="The client's idempotency id the event was sent with (unique per tenant)."
    )
    type: str = strawberry.field(
        description="Dotted lowercase event type, e.g. `order.paid`, `wecom.contact_added`."
    )
    customer_id: str = strawberry.field(
        description="The customer the event's identities resolved to (at the time it was stored)."
    )
    identity: JSON = strawberry.field(description="Identity kind → value, as sent (normalized).")
    timestamp: datetime = strawberry.field(
        description="When it happened, as the client reported it (ISO 8601, UTC, to the "
        "millisecond)."
    )
    properties: JSON = strawberry.field(
        description="The event's data as sent: a JSON object (empty when none), at most 32 KiB."
    )
    received_at: datetime = strawberry.field(
        description="When the server stored it (ISO 8601, UTC)."
    )

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


@strawberry.input(
    description="One identity of the customer (`phone`, `unionid`, `wecom_external_userid`...)."
)
class IdentityInput:
    """One identity of the customer (`phone`, `unionid`, `wecom_external_userid`...)."""

    kind: str = strawberry.field(
        description="The identity kind: `phone`, `email`, `unionid`, `wecom_external_userid`..."
    )
    value: str = strawberry.field(
        description="The identity value; normalized as its kind requires (phones to digits, "
        "without a `+86` prefix; e-mails to lowercase; all trimmed)."
    )


@strawberry.input(
    description="An event to ingest; `id` is the client's idempotency id, so sending the same "
    "event twice stores and routes it once."
)
class EventInput:
    """An event to ingest; `id` is the client's idempotency id."""

    id: str = strawberry.field(
        description="The client's idempotency id for this event, 1 to 128 characters; unique "
        "per tenant."
    )
    type: str = strawberry.field(
        description="Dotted lowercase event type (`[a-z][a-z0-9_]*` segments joined by `.`, at "
        "most 64 characters), e.g. `order.paid`; journeys' event triggers match on it."
    )
    identities: list[IdentityInput] = strawberry.field(
        description="Who did it: 1 to 8 identities, one per kind (a repeated kind keeps the last). All are resolved to "
        "one customer (created when none is known); naming two known customers merges them."
    )
    timestamp: datetime = strawberry.field(
        description="When it happened (ISO 8601); must carry a time zone, from 2000-01-01 to a "
        "day after the server's now. Kept in UTC, to the millisecond."
    )
    properties: JSON | None = strawberry.field(
        default=None,
        description="The event's data: a JSON object of at most 32 KiB, nested at most 32 "
        "levels, integers within 64 bits, no names starting with `$`; read by trigger and "
        "branch conditions and message templates; null means `{}`.",
    )

    def raw(self) -> dict[str, object]:
        """The plain form the ingestion service validates (as a REST body would carry it)."""
        return {
            "id": self.id,
            "type": self.type,
            "identity": {identity.kind: identity.value for identity in self.identities},
            "timestamp": self.timestamp,
            "properties": {} if self.properties is None else self.properties,
        }


@strawberry.type(description="An enrollment an event started or was delivered to.")
class RoutedEnrollment:
    """An enrollment an event started or was delivered to.

    `action`: `enrolled` (signal-with-start), `already_enrolled` (re-entry not allowed),
    `signalled` (delivered to a running enrollment) or `not_running` (it had just ended).
    """

    enrollment_id: str = strawberry.field(description="The enrollment (workflow) id.")
    journey_id: str = strawberry.field(description="The journey the enrollment belongs to.")
    action: str = strawberry.field(
        description="What routing did: `enrolled` (the event started a new enrollment), "
        "`already_enrolled` (the journey's re-entry policy kept the existing one), `signalled` "
        "(delivered to a running enrollment that waits for this type) or `not_running` (the "
        "enrollment had just ended; nothing delivered)."
    )


@strawberry.type(
    description="The fate of one event: `accepted`, `duplicate`, `rejected` or `failed` (not "
    "stored)."
)
class EventIngestResult:
    """The fate of one event: `accepted`, `duplicate`, `rejected` or `failed` (not stored)."""

    index: int = strawberry.field(description="The event's position in the input list, from 0.")
    event_id: str | None = strawberry.field(
        description="The event's `id` as sent; null when the input had no usable id."
    )
    status: str = strawberry.field(
        description="`accepted` (stored now and routed), `duplicate` (an event with this id was "
        "stored before; not routed again), `rejected` (malformed, not stored; see `errors`) or "
        "`failed` (not stored because of a server-side error; safe to send again)."
    )
    customer_id: str | None = strawberry.field(
        description="The customer the event was attributed to; null when it was not stored."
    )
    customer_created: bool = strawberry.field(
        description="Whether this event's identities were new, so a customer was created for it."
    )
    errors: list[FieldError] = strawberry.field(
        description="For `rejected` and `failed`: what was wrong, one entry per field (paths "
        "relative to the event); empty otherwise."
    )
    enrollments: list[RoutedEnrollment] = strawberry.field(
        description="The enrollments the event started or was delivered to; empty when it "
        "matched no journey or was not routed."
    )
    notes: list[str] = strawberry.field(
        description="Why a matching journey did not enroll the customer (e.g. the event lacks "
        "the journey's entry key), for people."
    )
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


@strawberry.type(
    description="Per-event results, in input order, and their counts. A batch is never all or "
    "nothing: well-formed events are stored even when others are rejected."
)
class IngestEventsPayload:
    """Per-event results, in input order, and their counts."""

    accepted: int = strawberry.field(description="How many events were stored now.")
    duplicates: int = strawberry.field(
        description="How many had been stored before (same `id`) and were skipped."
    )
    rejected: int = strawberry.field(description="How many were malformed and not stored.")
    failed: int = strawberry.field(
        description="How many were not stored because of a server-side error (send them again)."
    )
    results: list[EventIngestResult] = strawberry.field(
        description="One result per input event, in input order."
    )

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
