"""Subscriptions, over `graphql-transport-ws` at `/graphql` (see `api.graphql.http`).

Each is tenant-scoped and needs only read access. Feeds poll MongoDB (`api.services.live`), so
an update arrives within about half a second of being recorded, from whichever process wrote it.

An error ends the stream with one `next` carrying it (then `complete`), coded as elsewhere:
`NOT_FOUND`, `BAD_USER_INPUT`, `FORBIDDEN`; anything unexpected is logged and answered as
`INTERNAL_SERVER_ERROR` without its message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry
from graphql import GraphQLError

from api.auth import Permission
from api.graphql.context import Info
from api.graphql.customers.types import TimelineEntry
from api.graphql.enrollments.steps import Transition
from api.graphql.errors import internal_error
from api.graphql.operations.types import BulkOperation
from domain.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

Since = Annotated[
    datetime | None,
    strawberry.argument(
        description="Replay what was recorded from this time on (with a time zone; at most a "
        "day back); default: only what is recorded from now on."
    ),
]


def described_subscription(description: str) -> Callable[[F], F]:
    """`@strawberry.subscription(description=...)`, keeping the resolver's type visible to mypy."""
    return cast("Callable[[F], F]", strawberry.subscription(description=description))


def _require_read(info: Info) -> None:
    if not info.context.can(Permission.READ):
        raise GraphQLError(
            f"this API key's role does not allow {Permission.READ.value}",
            extensions={"code": "FORBIDDEN"},
        )


async def _public(stream: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """`stream`, its errors translated into what a client may see.

    Errors raised while a subscription streams carry no path, and strawberry would answer them
    with their message as it is.
    """
    try:
        async for item in stream:
            yield item
    except NotFoundError as exc:
        raise GraphQLError(str(exc), extensions={"code": "NOT_FOUND"}) from exc
    except InvalidInputError as exc:
        problems = [{"path": p.path, "message": p.message} for p in exc.problems]
        raise GraphQLError(
            str(exc), extensions={"code": "BAD_USER_INPUT", "problems": problems}
        ) from exc
    except GraphQLError:
        raise
    except Exception as exc:
        logger.exception("unexpected error in a subscription")
        raise internal_error() from exc


@strawberry.type
class LiveSubscriptions:
    @described_subscription(
        "Transitions of a journey's enrollments as they are recorded, or of one enrollment when "
        "`enrollmentId` is given (it may not exist yet: subscribe, then enroll). From `since` "
        "(at most a day back; default: now), oldest first. A `NOT_FOUND` error when the tenant "
        "has no such journey or the enrollment cannot be one of its."
    )
    async def enrollment_transitions(
        self,
        info: Info,
        journey_id: Annotated[strawberry.ID, strawberry.argument(description="The journey.")],
        enrollment_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this enrollment's; default: every one."),
        ] = None,
        since: Since = None,
    ) -> AsyncGenerator[Transition, None]:
        _require_read(info)
        feed = info.context.services.live.transitions(
            info.context.tenant_id, journey_id=journey_id, enrollment_id=enrollment_id, since=since
        )
        async for transition in _public(feed):
            yield Transition.of(transition)

    @described_subscription(
        "A customer's timeline as it grows: events as they are received, deliveries when created "
        "and again on each status change, transitions as they are recorded. From `since` (at "
        "most a day back; default: now). A `NOT_FOUND` error for an unknown customer."
    )
    async def customer_timeline(
        self,
        info: Info,
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer.")],
        since: Since = None,
    ) -> AsyncGenerator[TimelineEntry, None]:
        _require_read(info)
        feed = info.context.services.live.customer_timeline(
            info.context.tenant_id, customer_id, since=since
        )
        async for entry in _public(feed):
            yield TimelineEntry.of(entry)

    @described_subscription(
        "A bulk operation now, then each time its progress changes; completes once it has "
        "finished. A `NOT_FOUND` error when the tenant has no such operation."
    )
    async def operation_progress(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The operation id.")],
    ) -> AsyncGenerator[BulkOperation, None]:
        _require_read(info)
        feed = info.context.services.operations.watch(info.context.tenant_id, id)
        async for operation in _public(feed):
            yield BulkOperation.of(operation)
