"""What ingestion answers: one `IngestResult` per event, with what routing did (`RouteOutcome`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from domain.customers import Customer
from domain.errors import FieldProblem
from domain.events import Event

IngestStatus = Literal["accepted", "duplicate", "rejected", "failed"]
"""`accepted`: stored now; `duplicate`: stored before (routed again only if its routing never
finished); `rejected`: malformed, not stored; `failed`: not stored because of a server-side error
(safe to send again)."""

RouteAction = Literal["enrolled", "already_enrolled", "signalled", "not_running"]


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    """What routing did to one enrollment."""

    enrollment_id: str
    journey_id: str
    action: RouteAction


@dataclass(slots=True)
class IngestResult:
    """The fate of one event of a batch (`index` is its position in the batch)."""

    index: int
    event_id: str | None
    status: IngestStatus
    customer_id: str | None = None
    customer_created: bool = False
    errors: list[FieldProblem] = field(default_factory=list)
    routes: list[RouteOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    routing_error: str | None = None

    @property
    def stored(self) -> bool:
        """Whether the event is in the store (now or from before)."""
        return self.status in ("accepted", "duplicate")


@dataclass(frozen=True, slots=True)
class Routable:
    """A stored event to route, with its customer, the result to fill in and the preparation
    to run first."""

    result: IngestResult
    event: Event
    customer: Customer
    prepare: str | None = None


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """A batch after `IngestService.store`: one result per event, in batch order."""

    tenant_id: str
    results: list[IngestResult]
    _routable: list[Routable] = field(default_factory=list, repr=False)

    @property
    def needs_routing(self) -> bool:
        """Whether any event of the batch is still to be routed (stored now, or stored before
        and never routed)."""
        return bool(self._routable)


Preparation = Callable[[str, Event, Customer], Awaitable[Customer | None]]
"""Work to do on a stored event (tenant, event, its customer) right before it is routed; safe to
repeat (see `ingestion.scheduler`). It answers the customer to route the event for when that
changed (the preparation linked an identity that merged the customer into another), else None."""
