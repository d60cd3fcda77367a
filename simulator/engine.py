"""`simulate`: run a cohort through a journey version under a virtual clock (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.journey import JourneyDefinition
from simulator.models import ProgressCallback, SimCustomer, SimulationOptions, SimulationResult


def simulate(
    definition: JourneyDefinition,
    customers: Iterable[SimCustomer],
    options: SimulationOptions | None = None,
    winners: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Run `customers` through `definition` (with decided experiment `winners`) as the live
    workflow would, under a virtual clock; return the funnel, volumes, cap hits, conversions."""
    raise NotImplementedError("in progress on branch sim-core")
