"""Dead-letter reads, scoped to the caller's tenant."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.common import After, Connection, First, described_field, page_limit
from api.graphql.context import Info
from api.graphql.deadletters.types import DeadLetter, DeadLetterFilter


@strawberry.type
class DeadLetterQueries:
    @described_field(
        "Events parked after too many failed routing attempts, oldest parked first, with their "
        "attempts and last error. `totalCount` counts every match."
    )
    async def dead_letters(
        self,
        info: Info,
        filter: Annotated[
            DeadLetterFilter | None,
            strawberry.argument(description="Criteria that must all hold (default: all)."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[DeadLetter]:
        wanted = filter or DeadLetterFilter()
        repository = info.context.services.store.dead_letters
        tenant_id = info.context.tenant_id
        page = await repository.list(
            tenant_id,
            event_type=wanted.event_type,
            customer_id=wanted.customer_id,
            cursor=after,
            limit=page_limit(first),
        )

        async def count() -> int:
            return await repository.count(
                tenant_id, event_type=wanted.event_type, customer_id=wanted.customer_id
            )

        return Connection.of(page, DeadLetter.of, after=after, counter=count)

    @described_field("One dead letter, or null when the tenant has no parked event with this id.")
    async def dead_letter(
        self,
        info: Info,
        event_id: Annotated[strawberry.ID, strawberry.argument(description="The event's id.")],
    ) -> DeadLetter | None:
        found = await info.context.services.store.dead_letters.get(info.context.tenant_id, event_id)
        return None if found is None else DeadLetter.of(found)
