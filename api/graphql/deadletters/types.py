"""Dead-letter types: a parked event with its routing attempts, and what retrying did."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.common import NotFound
from api.graphql.events.types import Event, RoutedEnrollment
from api.services.dead_letters import DeadLetterRetries, DeadLetterRetry
from store.events import StoredEvent


def dead_letter_not_found(event_id: str) -> NotFound:
    """The answer for an id naming no dead letter of the tenant."""
    return NotFound(message=f"dead letter {event_id!r} not found", kind="dead letter", id=event_id)


@strawberry.type(
    description="A stored event whose routing to journeys failed too often: parked, so the "
    "recovery sweep leaves it and its customer's later events go on. Retry it with "
    "`retryDeadLetter` once the cause is fixed."
)
class DeadLetter:
    """A stored event whose routing failed too often, parked."""

    event_id: strawberry.ID = strawberry.field(description="The event's id (as it was sent).")
    event: Event = strawberry.field(description="The event as stored.")
    attempts: int = strawberry.field(description="How many routing attempts failed.")
    last_error: str | None = strawberry.field(
        description="What the last attempt failed with: the error's kind, and its text when "
        "that is the workflow service's or the router's own (never secrets)."
    )
    parked_at: datetime = strawberry.field(description="When it was parked (ISO 8601, UTC).")

    @classmethod
    def of(cls, stored: StoredEvent) -> DeadLetter:
        return cls(
            event_id=strawberry.ID(stored.event.id),
            event=Event.of(stored.event),
            attempts=stored.attempts,
            last_error=stored.last_error,
            # always set on what the repository reads; received_at only satisfies the type
            parked_at=stored.dead_at or stored.event.received_at,
        )


@strawberry.input(description="Which dead letters to list; every given criterion must hold.")
class DeadLetterFilter:
    """Which dead letters to list; every given criterion must hold."""

    event_type: str | None = strawberry.field(
        default=None, description="Events of this type (e.g. `order.paid`)."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Events of this customer."
    )


@strawberry.type(description="What retrying one dead letter did.")
class DeadLetterRetried:
    """What retrying one dead letter did."""

    event_id: strawberry.ID = strawberry.field(description="The event's id.")
    routed: bool = strawberry.field(
        description="Whether it reached its journeys now. When false it failed again: it is "
        "pending, counted and backed off like any event (see `routingError`), and parked again "
        "once out of attempts."
    )
    routing_error: str | None = strawberry.field(
        description="Why routing failed again; null when routed."
    )
    enrollments: list[RoutedEnrollment] = strawberry.field(
        description="The enrollments the event started or was delivered to."
    )

    @classmethod
    def of(cls, retry: DeadLetterRetry) -> DeadLetterRetried:
        return cls(
            event_id=strawberry.ID(retry.event_id),
            routed=retry.routed,
            routing_error=retry.routing_error,
            enrollments=[
                RoutedEnrollment(
                    enrollment_id=r.enrollment_id, journey_id=r.journey_id, action=r.action
                )
                for r in retry.routes
            ],
        )


@strawberry.type(description="What retrying several dead letters did, in the order asked.")
class DeadLettersRetried:
    """What retrying several dead letters did, in the order asked."""

    results: list[DeadLetterRetried] = strawberry.field(
        description="One per dead letter retried, in the order asked."
    )
    not_found: list[NotFound] = strawberry.field(
        description="One per id that names no dead letter of the tenant (unknown, or not "
        "parked), in the order asked."
    )

    @classmethod
    def of(cls, retries: DeadLetterRetries) -> DeadLettersRetried:
        return cls(
            results=[DeadLetterRetried.of(retry) for retry in retries.results],
            not_found=[dead_letter_not_found(event_id) for event_id in retries.not_found],
        )
