"""Journey simulation as a tracked operation: what a journey version (or its draft) would do to a
cohort, before it does it.

`start` resolves what to simulate (a version, the draft, or by default the live version, else the
draft), refuses a definition with problems naming every one (as publishing does), snapshots the
definition, the cohort's description and the options (with the tenant's messaging policy) on a
`simulate` operation, and lets `OperationService` run it. `work` builds the cohort — a
`SyntheticCohort`, generated in the child process, or a backtest read from MongoDB
(`store.backtest`) and turned into `SimCustomer`s here — runs it through `SimulationRunner`
(off the event loop), counting customers as progress, and stores the result apart from the
operation (`store.simulations`). A run taken over after its process died starts over.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from api.services.journeys import JourneyService
from api.services.messaging import MessagingPolicyService
from api.services.operations import OperationService
from api.services.ports import Clock, utc_now
from api.services.simulation_runner import SimulationJob, SimulationRunner
from domain.engine import run_key
from domain.enrollments import enrollment_id
from domain.errors import FieldProblem, InvalidInputError, ValidationFailedError
from domain.events import Event
from domain.journey import JourneyDefinition, ManualTrigger
from domain.routing import Enter, entry
from simulator.models import (
    SimCustomer,
    SimEvent,
    SimulationOptions,
    SimulationResult,
    SyntheticCohort,
)
from store.backtest import MAX_EVENTS_PER_CUSTOMER, BacktestCustomer
from store.database import Store
from store.operations import BulkOperation

MAX_COHORT = 100_000
"""Customers one simulation may run, synthetic or backtest."""
MAX_DAYS = 366
BACKTEST_NOTES = (
    "Backtest: profiles (tags, attributes, identities, consent) are as stored now, not as they "
    "were during the window.",
    "Backtest: each customer enters once, with their first entering event in the window; "
    f"at most {MAX_EVENTS_PER_CUSTOMER} of their later events are replayed; a customer merged "
    "into another counts as that one (a merge repoints the events).",
)
PROGRESS_WRITE_EVERY = 0.5
"""Seconds between progress writes to the operation, at most (besides the last)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BacktestSpec(_Model):
    """The tenant's real customers and their events in [`since`, `until`): only those whose
    event there would have entered the journey (`entered_only`), or everyone with an event
    there (arriving with their first); at most `limit` customers."""

    since: AwareDatetime
    until: AwareDatetime
    entered_only: bool = True
    limit: int = Field(default=MAX_COHORT, ge=1, le=MAX_COHORT)


class SimulationRequest(_Model):
    """What a `simulate` operation runs, as stored on it (`BulkOperation.simulation`)."""

    journey_id: str
    version: int | None = Field(default=None, description="None: the draft.")
    definition: JourneyDefinition
    winners: dict[str, str] = Field(default_factory=dict)
    synthetic: SyntheticCohort | None = None
    backtest: BacktestSpec | None = None
    options: SimulationOptions


class SimulationService:
    """Starts simulations as operations and reads their results."""

    def __init__(
        self,
        store: Store,
        journeys: JourneyService,
        messaging: MessagingPolicyService,
        operations: OperationService,
    ) -> None:
        self._store = store
        self._journeys = journeys
        self._messaging = messaging
        self._operations = operations

    async def start(
        self, tenant_id: str, journey_id: str, *, created_by: str, **arguments: Any
    ) -> BulkOperation:
        """Check the request (`request`, with its errors) and start it as a `simulate`
        operation, `PENDING`."""
        request = await self.request(tenant_id, journey_id, **arguments)
        return await self._operations.start(
            tenant_id,
            "simulate",
            journey_id,
            created_by=created_by,
            version=request.version,
            simulation=request.model_dump(mode="json"),
        )

    async def request(
        self,
        tenant_id: str,
        journey_id: str,
        *,
        version: int | None = None,
        draft: bool = False,
        synthetic: dict[str, Any] | None = None,
        backtest: dict[str, Any] | None = None,
        days: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> SimulationRequest:
        """The request to store, checked: `InvalidInputError` naming every bad argument,
        `ValidationFailedError` naming every problem of the definition (the draft's, as
        publishing would), `NotFoundError` for an unknown journey or version.

        `days` is how long the simulated window lasts from its start: by default 90 for a
        synthetic cohort and, for a backtest (whose window starts at `since`), through `until`,
        which it must cover.
        """
        problems: list[FieldProblem] = []
        if version is not None and draft:
            problems.append(
                FieldProblem(path="draft", message="give `version` or `draft`, not both")
            )
        if (synthetic is None) == (backtest is None):
            problems.append(
                FieldProblem(
                    path="cohort", message="give exactly one of `synthetic` and `backtest`"
                )
            )
        cohort, spec = _cohort(synthetic, backtest, problems)
        if spec is not None:
            window = math.ceil((spec.until - spec.since) / timedelta(days=1))
            if days is None:
                days = max(1, window)
            elif days < window:
                problems.append(
                    FieldProblem(path="days", message=f"must cover the backtest window: {window}+")
                )
        days = 90 if days is None else days
        if not 1 <= days <= MAX_DAYS:
            problems.append(FieldProblem(path="days", message=f"must be 1 to {MAX_DAYS}"))
        if problems:
            raise InvalidInputError(problems)
        journey = await self._store.journeys.get(tenant_id, journey_id)
        winners: dict[str, str] = {}
        if version is None and not draft and journey.live_version is not None:
            version = journey.live_version
        if version is not None:
            stored = await self._store.journeys.get_version(tenant_id, journey_id, version)
            definition = stored.definition
            winners = {node: d.variant_id for node, d in stored.experiment_decisions.items()}
        else:
            definition = journey.draft
            found = self._journeys.problems(definition)
            if found:
                raise ValidationFailedError(found)
        if (
            spec is not None
            and spec.entered_only
            and isinstance(definition.entry.trigger, ManualTrigger)
        ):
            raise InvalidInputError.single(
                "cohort.backtest.enteredOnly",
                "the journey is entered through the API only: no event enters it; "
                "give `enteredOnly: false` to replay everyone with an event in the window",
            )
        start = None if spec is None else spec.since
        try:
            simulation_options = SimulationOptions.model_validate(
                {
                    **(options or {}),
                    "days": days,
                    "start": start,
                    "policy": await self._messaging.get(tenant_id),
                    "tenant_id": tenant_id,
                    "journey_id": journey_id,
                    "workers": 1,
                }
            )
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc, "options") from exc
        return SimulationRequest(
            journey_id=journey_id,
            version=version,
            definition=definition,
            winners=winners,
            synthetic=cohort,
            backtest=spec,
            options=simulation_options,
        )

    async def result(self, tenant_id: str, operation_id: str) -> SimulationResult | None:
        """The result of a finished simulation, or None (running, failed, expired, unknown)."""
        doc = await self._store.simulations.get(tenant_id, operation_id)
        return None if doc is None else SimulationResult.model_validate(doc)


class SimulationRuns:
    """Runs `simulate` operations (`OperationService` hands them over)."""

    def __init__(
        self,
        store: Store,
        runner: SimulationRunner,
        clock: Clock = utc_now,
        *,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._store = store
        self._runner = runner
        self._clock = clock
        self._lease = lease

    async def work(self, operation: BulkOperation) -> None:
        """Run the operation's simulation from the start and store its result."""
        request = SimulationRequest.model_validate(operation.simulation or {})
        tenant_id, repo = operation.tenant_id, self._store.operations
        customers: list[SimCustomer] | None = None

        async def keep_claim() -> None:
            """Extend the lease, or `LeaseLostError` when another process took the run over."""
            await repo.record_progress(
                tenant_id,
                operation.id,
                done=0,
                skipped=0,
                failed=0,
                errors=[],
                lease_until=self._clock() + self._lease,
                attempt=operation.attempts,
            )

        if request.backtest is not None:
            customers = await self.backtest_customers(
                tenant_id,
                request.journey_id,
                request.definition,
                request.backtest,
                on_page=keep_claim,  # the read may outlast a lease
            )
            total = len(customers)
        else:
            total = request.synthetic.size if request.synthetic is not None else 0
        await repo.restart_progress(tenant_id, operation.id, total, attempt=operation.attempts)
        recorded = 0
        written = 0.0

        async def progress(done: int, _total: int) -> None:
            nonlocal recorded, written
            now = self._clock().timestamp()
            if done - recorded <= 0 or (now - written < PROGRESS_WRITE_EVERY and done < total):
                return
            await repo.record_progress(
                tenant_id,
                operation.id,
                done=done - recorded,
                skipped=0,
                failed=0,
                errors=[],
                lease_until=self._clock() + self._lease,
                attempt=operation.attempts,
            )
            recorded, written = done, now

        job = SimulationJob(
            definition=request.definition,
            options=request.options,
            customers=customers,
            synthetic=request.synthetic if customers is None else None,
            winners=request.winners,
        )
        result = await self._runner.run(job, progress)
        if request.backtest is not None:
            result = result.model_copy(update={"notes": [*result.notes, *BACKTEST_NOTES]})
        if recorded < total:
            await progress(total, total)
        await keep_claim()  # a stalled run taken over must not overwrite the result
        await self._store.simulations.save(
            tenant_id, operation.id, result.model_dump(mode="json"), self._clock()
        )

    async def backtest_customers(
        self,
        tenant_id: str,
        journey_id: str,
        definition: JourneyDefinition,
        spec: BacktestSpec,
        *,
        on_page: Callable[[], Awaitable[None]] | None = None,
    ) -> list[SimCustomer]:
        """The backtest cohort as simulated customers, in arrival order (`on_page` awaited
        after each page of customers read); `store.backtest.CohortTooLargeError` past
        `spec.limit`. A customer whose enrollment in the journey started in the window keeps
        that run's key, so experiment splits go as they went."""

        def enters(event: Event) -> bool:
            return _enters(definition, event)

        found: list[SimCustomer] = []
        events = 0
        pages = self._store.backtest.cohort(
            tenant_id,
            spec.since,
            spec.until,
            enters=enters if spec.entered_only else None,
            limit=spec.limit,
        )
        async for page in pages:
            ids = {enrollment_id(tenant_id, journey_id, item.customer.id): item for item in page}
            runs = {
                enrollment.customer_id: run_key(enrollment.started_at)
                for enrollment in (
                    await self._store.enrollments.get_many(tenant_id, list(ids))
                ).values()
                if spec.since <= enrollment.started_at < spec.until
            }
            batch = [sim_customer(item, runs.get(item.customer.id)) for item in page]
            found += batch
            events += sum(len(customer.events) for customer in batch)
            if events > MAX_BACKTEST_EVENTS:
                raise InvalidInputError(
                    [
                        FieldProblem(
                            path="cohort.backtest",
                            message=f"the window holds more than {MAX_BACKTEST_EVENTS:,} "
                            "events to replay: narrow `since` and `until` or lower `limit`",
                        )
                    ]
                )
            if on_page is not None:
                await on_page()
        found.sort(key=lambda customer: (customer.arrives_at, customer.id))
        return found


MAX_BACKTEST_EVENTS = 2_000_000
"""A backtest cohort is held in memory (then handed to the simulation's process): at most this
many replayed events in all, so a wide window fails with a clear error instead of the process."""


def _cohort(
    synthetic: dict[str, Any] | None,
    backtest: dict[str, Any] | None,
    problems: list[FieldProblem],
) -> tuple[SyntheticCohort | None, BacktestSpec | None]:
    cohort = spec = None
    if synthetic is not None:
        size = synthetic.get("size")
        if isinstance(size, int) and size > MAX_COHORT:
            problems.append(
                FieldProblem(path="cohort.synthetic.size", message=f"at most {MAX_COHORT}")
            )
        try:
            cohort = SyntheticCohort.model_validate(synthetic)
        except ValidationError as exc:
            problems += InvalidInputError.from_validation_error(exc, "cohort.synthetic").problems
    try:
        if backtest is not None:
            spec = BacktestSpec.model_validate(backtest)
            if spec.until <= spec.since:
                problems.append(
                    FieldProblem(path="cohort.backtest.until", message="must be after `since`")
                )
    except ValidationError as exc:
        problems += InvalidInputError.from_validation_error(exc, "cohort.backtest").problems
    return cohort, spec


def _enters(definition: JourneyDefinition, event: Event) -> bool:
    trigger = definition.entry.trigger
    if getattr(trigger, "event_type", None) != event.type:
        return False
    return isinstance(entry("", 1, definition, event.properties), Enter)


def _sim_event(event: Event) -> SimEvent:
    return SimEvent(type=event.type, at=event.timestamp, properties=dict(event.properties))


def sim_customer(item: BacktestCustomer, run: str | None = None) -> SimCustomer:
    """One real customer as the simulator takes them: arriving with their entry event, their
    later events to replay, their profile as stored now (tags, attributes, identity kinds, the
    channels they opted out of) and, when given, their recorded run's key."""
    customer = item.customer
    return SimCustomer(
        id=customer.id,
        arrives_at=item.arrival.timestamp,
        entry_event=_sim_event(item.arrival),
        tags=list(customer.tags),
        attributes=dict(customer.attributes),
        identity_kinds=sorted({identity.kind for identity in customer.identities}),
        events=[_sim_event(event) for event in item.events],
        opted_out=sorted(
            channel for channel, consent in customer.consent.items() if not consent.granted
        ),
        run=run,
    )
