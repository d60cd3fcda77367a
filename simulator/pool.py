"""Spreading a simulation over worker processes: contiguous slices of the cohort, one per task,
whose counts are summed in slice order (so the result does not depend on the worker count)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from domain.journey import JourneyDefinition
from simulator.models import ProgressCallback, SimCustomer, SimulationOptions

if TYPE_CHECKING:
    from simulator.engine import _Totals

SLICES_PER_WORKER = 4
"""Slices per worker: enough for steady progress reports and an even load."""


def _slice(
    definition_json: str,
    customers: Sequence[SimCustomer],
    options: SimulationOptions,
    winners: Mapping[str, str] | None,
    start: datetime,
) -> _Totals:
    from simulator.engine import simulate_slice

    definition = JourneyDefinition.model_validate_json(definition_json)
    return simulate_slice(definition, customers, options, winners, start)


def run_in_pool(
    definition: JourneyDefinition,
    customers: Sequence[SimCustomer],
    options: SimulationOptions,
    winners: Mapping[str, str] | None,
    start: datetime,
    progress: ProgressCallback | None,
) -> _Totals:
    """The summed counts of `customers`, simulated over `options.workers` processes."""
    from simulator.engine import _Totals

    count = options.workers * SLICES_PER_WORKER
    size = -(-len(customers) // count)
    slices = [customers[i : i + size] for i in range(0, len(customers), size)]
    definition_json = definition.model_dump_json()
    single = options.model_copy(update={"workers": 1})
    context = multiprocessing.get_context("spawn")
    totals = _Totals(days=options.days)
    done = 0
    with ProcessPoolExecutor(max_workers=options.workers, mp_context=context) as pool:
        futures = [
            pool.submit(_slice, definition_json, part, single, winners, start) for part in slices
        ]
        for part, future in zip(slices, futures, strict=True):
            totals.merge(future.result())
            done += len(part)
            if progress is not None:
                progress(done, len(customers))
    return totals
