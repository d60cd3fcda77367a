"""Retrying dead letters: route them again now, with a fresh attempt count."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import FieldError, Forbidden, InvalidInput, NotFound, described_mutation
from api.graphql.context import Info
from api.graphql.deadletters.types import (
    DeadLetterRetried,
    DeadLettersRetried,
    dead_letter_not_found,
)
from api.services.dead_letters import MAX_RETRIES_PER_CALL

RetryDeadLetterResult = Annotated[
    DeadLetterRetried | NotFound | Forbidden,
    strawberry.union(
        "RetryDeadLetterResult",
        description="`DeadLetterRetried` (routed, or failed again: see `routed`); `NotFound` "
        "when the tenant has no parked event with this id; `Forbidden` without the "
        "`ingest_events` permission.",
    ),
]

RetryDeadLettersResult = Annotated[
    DeadLettersRetried | InvalidInput | Forbidden,
    strawberry.union(
        "RetryDeadLettersResult",
        description=f"`DeadLettersRetried`; `InvalidInput` for no ids or more than "
        f"{MAX_RETRIES_PER_CALL}; `Forbidden` without the `ingest_events` permission.",
    ),
]


@strawberry.type
class DeadLetterMutations:
    @described_mutation(
        "Route a dead letter again now, with a fresh attempt count (after fixing what made it "
        "fail). Needs an operator or admin key (`ingest_events`)."
    )
    async def retry_dead_letter(
        self,
        info: Info,
        event_id: Annotated[
            strawberry.ID, strawberry.argument(description="The parked event's id.")
        ],
    ) -> RetryDeadLetterResult:
        if not info.context.can(Permission.INGEST_EVENTS):
            return Forbidden.of(Permission.INGEST_EVENTS)
        retried = await info.context.services.dead_letters.retry(info.context.tenant_id, [event_id])
        if not retried.results:
            return dead_letter_not_found(event_id)
        return DeadLetterRetried.of(retried.results[0])

    @described_mutation(
        f"Route several dead letters again now (1 to {MAX_RETRIES_PER_CALL}), each customer's "
        "in the order they were received; ids naming none are listed in `notFound`. Needs an "
        "operator or admin key (`ingest_events`)."
    )
    async def retry_dead_letters(
        self,
        info: Info,
        event_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description=f"The parked events' ids, 1 to {MAX_RETRIES_PER_CALL}."
            ),
        ],
    ) -> RetryDeadLettersResult:
        if not info.context.can(Permission.INGEST_EVENTS):
            return Forbidden.of(Permission.INGEST_EVENTS)
        if not event_ids or len(event_ids) > MAX_RETRIES_PER_CALL:
            message = f"send 1 to {MAX_RETRIES_PER_CALL} ids, not {len(event_ids)}"
            return InvalidInput(
                message=message, errors=[FieldError(path="eventIds", message=message)]
            )
        retried = await info.context.services.dead_letters.retry(
            info.context.tenant_id, list(event_ids)
        )
        return DeadLettersRetried.of(retried)
