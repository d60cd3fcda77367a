"""Dead letters: events parked after too many failed routing attempts, and retrying them.

Listing and reading go straight to `store.dead_letters`. A retry makes the dead letters pending
again with a fresh attempt count and routes them at once through `IngestService.route_stored`,
each customer's in the order they were parked; one that fails again is counted and backed off
like any other (so it may be parked again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ingestion.results import RouteOutcome
from ingestion.service import IngestService
from store.database import Store
from store.dead_letters import MAX_REVIVE

MAX_RETRIES_PER_CALL = MAX_REVIVE
"""Dead letters one `retry` call takes, at most: what one revive in the store takes."""


@dataclass(frozen=True, slots=True)
class DeadLetterRetry:
    """What retrying one dead letter did: routed (to these enrollments), or the error."""

    event_id: str
    routed: bool
    routing_error: str | None = None
    routes: list[RouteOutcome] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeadLetterRetries:
    """One result per dead letter retried, in the order asked; the ids that name none."""

    results: list[DeadLetterRetry]
    not_found: list[str]


class DeadLetterService:
    """Retries a tenant's dead letters."""

    def __init__(self, store: Store, ingest: IngestService) -> None:
        self._store = store
        self._ingest = ingest

    async def retry(self, tenant_id: str, event_ids: Sequence[str]) -> DeadLetterRetries:
        """Route these dead letters again now (at most `MAX_RETRIES_PER_CALL`)."""
        wanted = list(dict.fromkeys(event_ids))[:MAX_RETRIES_PER_CALL]
        revived = await self._store.dead_letters.revive(tenant_id, wanted)
        # Each customer's in the order they were parked, as the sweep would have routed them.
        revived.sort(key=lambda item: (item.event.received_at, item.event.id))
        results = {
            result.event_id: result
            for result in await self._ingest.route_stored(tenant_id, revived)
        }
        found = {item.event.id for item in revived}
        out: list[DeadLetterRetry] = []
        for event_id in wanted:
            if event_id not in found:
                continue
            result = results.get(event_id)
            if result is None:  # already being routed by this process
                out.append(DeadLetterRetry(event_id, routed=False, routing_error="routing now"))
                continue
            out.append(
                DeadLetterRetry(
                    event_id,
                    routed=result.routing_error is None,
                    routing_error=result.routing_error,
                    routes=list(result.routes),
                )
            )
        return DeadLetterRetries(out, [event_id for event_id in wanted if event_id not in found])
