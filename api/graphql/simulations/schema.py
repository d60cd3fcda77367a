"""Journey simulation through GraphQL: `simulateJourney` (a tracked operation) and
`simulation(id)` (its progress and, once done, its chartable result)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ValidationFailed,
    described_field,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.operations.types import BulkOperation
from api.graphql.simulations.inputs import (
    SimulationCohortInput,
    SimulationOptionsInput,
    raw_backtest,
    raw_options,
    raw_synthetic,
)
from api.graphql.simulations.types import CohortKind, Simulation, SimulationResult
from api.services.simulations import SimulationRequest
from domain.errors import ConflictError, InvalidInputError, NotFoundError, ValidationFailedError

SimulateJourneyResult = Annotated[
    BulkOperation | ValidationFailed | InvalidInput | NotFound | Conflict | Forbidden,
    strawberry.union(
        "SimulateJourneyResult",
        description="`BulkOperation` (kind `SIMULATE`), started: follow it with "
        "`simulation(id)`; `ValidationFailed` naming every problem of the draft (as publishing "
        "would); `InvalidInput` for bad arguments or cohort; `NotFound` for an unknown journey "
        "or version; `Forbidden` without `edit_journeys` (designer or admin).",
    ),
]


@strawberry.type
class SimulationMutations:
    @described_mutation(
        "Simulate what the journey would do to a cohort — per-node funnel and occupancy per "
        "day, message volumes per channel per day, the sends frequency caps, quiet hours and "
        "WeCom's allowance would hold or skip, predicted conversion and time to convert — with "
        "the same engine the live journeys run, under a virtual clock: no message is sent, no "
        "enrollment made. Runs `version`, or the draft (`draft: true`; refused with every "
        "problem named), or by default the live version (else the draft), as a tracked "
        "operation in the background; follow it with `simulation(id)`. Needs a designer or "
        "admin key (`edit_journeys`)."
    )
    async def simulate_journey(
        self,
        info: Info,
        journey_id: Annotated[strawberry.ID, strawberry.argument(description="The journey.")],
        cohort: Annotated[
            SimulationCohortInput,
            strawberry.argument(description="Who: a synthetic cohort or a backtest."),
        ],
        version: Annotated[
            int | None, strawberry.argument(description="The version to simulate.")
        ] = None,
        draft: Annotated[
            bool, strawberry.argument(description="Simulate the draft instead of a version.")
        ] = False,
        days: Annotated[
            int | None,
            strawberry.argument(
                description="The simulated window in days (1 to 366): default 90, or for a "
                "backtest its window (from `since` through `until`), which it must cover."
            ),
        ] = None,
        options: Annotated[
            SimulationOptionsInput | None,
            strawberry.argument(description="Success rates, reactions, seed."),
        ] = None,
    ) -> SimulateJourneyResult:
        if not info.context.can(Permission.EDIT_JOURNEYS):
            return Forbidden.of(Permission.EDIT_JOURNEYS)
        try:
            model = await info.context.services.simulations.start(
                info.context.tenant_id,
                journey_id,
                created_by=info.context.principal.key_id,
                version=version,
                draft=draft,
                synthetic=None if cohort.synthetic is None else raw_synthetic(cohort.synthetic),
                backtest=None if cohort.backtest is None else raw_backtest(cohort.backtest),
                days=days,
                options=raw_options(options),
            )
        except ValidationFailedError as exc:
            return ValidationFailed.of(exc.problems)
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except NotFoundError as exc:
            return NotFound.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return BulkOperation.of(model)


@strawberry.type
class SimulationQueries:
    @described_field(
        "One simulation (the id of its `SIMULATE` operation) with its progress and, once it "
        "has succeeded, its result; null when the tenant has no simulation with this id."
    )
    async def simulation(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The operation id.")],
    ) -> Simulation | None:
        services = info.context.services
        tenant_id = info.context.tenant_id
        operation = await services.operations.get(tenant_id, id)
        if operation is None or operation.kind != "simulate" or operation.simulation is None:
            return None
        request = SimulationRequest.model_validate(operation.simulation)
        result = None
        if operation.status == "succeeded":
            found = await services.simulations.result(tenant_id, id)
            result = None if found is None else SimulationResult.of(found)
        return Simulation(
            id=strawberry.ID(operation.id),
            journey_id=strawberry.ID(operation.journey_id),
            version=request.version,
            cohort=CohortKind.BACKTEST if request.backtest is not None else CohortKind.SYNTHETIC,
            days=request.options.days,
            operation=BulkOperation.of(operation),
            result=result,
        )
