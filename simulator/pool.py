"""Spreading a simulation over worker processes: contiguous slices of the cohort, one per task,
whose counts are summed in slice order (so the result does not depend on the worker count).

Workers are spawned (not forked: the caller may be a threaded server). A synthetic cohort's
slices are generated in the workers; a list of customers is sent to them as JSON.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from domain.journey import JourneyDefinition
from simulator.models import ProgressCallback, SimCustomer, SimulationOptions, SyntheticCohort

if TYPE_CHECKING:
    from simulator.engine import _Totals

SLICES_PER_WORKER = 4
"""Slices per worker: enough for steady progress reports and an even load."""

_CUSTOMERS = TypeAdapter(list[SimCustomer])


def _slice(
    definition_json: str,
    customers: bytes | tuple[SyntheticCohort, int, int],
    options: SimulationOptions,
    winners: Mapping[str, str] | None,
    start: datetime,
) -> _Totals:
    from simulator.engine import simulate_slice

    definition = JourneyDefinition.model_validate_json(definition_json)
    if isinstance(customers, bytes):
        members = _CUSTOMERS.validate_json(customers)
        return simulate_slice(definition, members, options, winners, start)
    cohort, first, stop = customers
    return simulate_slice(definition, cohort.customers(first, stop), options, winners, start)


def run_in_pool(
    definition: JourneyDefinition,
    customers: Sequence[SimCustomer] | SyntheticCohort,
    options: SimulationOptions,
    winners: Mapping[str, str] | None,
    start: datetime,
    progress: ProgressCallback | None,
) -> _Totals:
    """The summed counts of `customers`, simulated over `options.workers` processes."""
    from simulator.engine import _Totals

    total = customers.size if isinstance(customers, SyntheticCohort) else len(customers)
    size = -(-total // (options.workers * SLICES_PER_WORKER))
    bounds = [(first, min(total, first + size)) for first in range(0, total, size)]
    parts: list[bytes | tuple[SyntheticCohort, int, int]] = [
        (customers, first, stop)
        if isinstance(customers, SyntheticCohort)
        else _CUSTOMERS.dump_json(list(customers[first:stop]))
        for first, stop in bounds
    ]
    definition_json = definition.model_dump_json()
    single = options.model_copy(update={"workers": 1})
    context = multiprocessing.get_context("spawn")
    totals = _Totals(days=options.days)
    done = 0
    with ProcessPoolExecutor(max_workers=options.workers, mp_context=context) as pool:
        futures = [
            pool.submit(_slice, definition_json, part, single, winners, start) for part in parts
        ]
        for (first, stop), future in zip(bounds, futures, strict=True):
            totals.merge(future.result())
            done += stop - first
            if progress is not None:
                progress(done, total)
    return totals
