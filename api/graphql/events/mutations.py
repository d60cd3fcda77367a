"""`ingestEvents`: the GraphQL door to the ingestion service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Forbidden, InvalidInput, described_mutation
from api.graphql.context import Info
from api.graphql.events.types import EventInput, IngestEventsPayload

MAX_EVENTS_PER_MUTATION = 500

IngestEventsResult = Annotated[
    IngestEventsPayload | InvalidInput | Forbidden,
    strawberry.union(
        "IngestEventsResult",
        description="`IngestEventsPayload` with one result per event (some may be rejected); "
        "`InvalidInput` when the batch is empty or longer than 500 events (nothing stored); "
        "`Forbidden` without the `ingest_events` permission.",
    ),
]


@strawberry.type
class EventMutations:
    @described_mutation(
        "Store events and route them to journeys (1 to 500 a call): each event enrolls its "
        "customer into published journeys whose entry trigger matches and is delivered to "
        "their running enrollments waiting for its type. Answers once routed. Needs an "
        "operator or admin key (`ingest_events`)."
    )
    async def ingest_events(
        self,
        info: Info,
        events: Annotated[
            list[EventInput],
            strawberry.argument(
                description="The events, 1 to 500; each is validated, stored and routed on its own."
            ),
        ],
    ) -> IngestEventsResult:
        if not info.context.can(Permission.INGEST_EVENTS):
            return Forbidden.of(Permission.INGEST_EVENTS)
        if not events or len(events) > MAX_EVENTS_PER_MUTATION:
            message = f"send 1 to {MAX_EVENTS_PER_MUTATION} events, not {len(events)}"
            return InvalidInput.single("events", message)
        results = await info.context.services.ingest.ingest(
            info.context.tenant_id, [event.raw() for event in events]
        )
        return IngestEventsPayload.of(results)
