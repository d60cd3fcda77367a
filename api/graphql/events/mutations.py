"""`ingestEvents`: the GraphQL door to the ingestion service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import FieldError, Forbidden, InvalidInput, described_mutation
from api.graphql.context import Info
from api.graphql.events.types import EventInput, IngestEventsPayload

MAX_EVENTS_PER_MUTATION = 500

IngestEventsResult = Annotated[
    IngestEventsPayload | InvalidInput | Forbidden, strawberry.union("IngestEventsResult")
]


@strawberry.type
class EventMutations:
    @described_mutation("Store events and route them to journeys (at most 500).")
    async def ingest_events(self, info: Info, events: list[EventInput]) -> IngestEventsResult:
        if not info.context.can(Permission.INGEST_EVENTS):
            return Forbidden.of(Permission.INGEST_EVENTS)
        if not events or len(events) > MAX_EVENTS_PER_MUTATION:
            message = f"send 1 to {MAX_EVENTS_PER_MUTATION} events, not {len(events)}"
            return InvalidInput(
                message=message, errors=[FieldError(path="events", message=message)]
            )
        results = await info.context.services.ingest.ingest(
            info.context.tenant_id, [event.raw() for event in events]
        )
        return IngestEventsPayload.of(results)
