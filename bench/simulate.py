"""How fast the simulator runs the canonical journey: customers x simulated days in wall time.

    .venv/bin/python -m bench.simulate [--customers 100000] [--days 90] [--workers 2]

The cohort is `simulator.presets.canonical_cohort` (arriving over 30 days) through
`domain.templates.canonical_journey()` in its real time scale; the issue's target is 100,000
customers x 90 days in under 60 s on a 2-core machine. Prints the figures, and the funnel's
headline so a run that got faster by doing less shows it.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from domain.templates import canonical_journey
from simulator.engine import simulate
from simulator.presets import canonical_cohort, canonical_options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    definition = canonical_journey()
    began = time.perf_counter()
    cohort = canonical_cohort(args.customers, seed=args.seed)
    result = simulate(definition, cohort, canonical_options(days=args.days, workers=args.workers))
    wall = time.perf_counter() - began
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    sent = sum(channel.totals.sent for channel in result.channels)
    print(f"customers          {result.customers}")
    print(f"simulated days     {result.days}")
    print(f"workers            {args.workers}")
    print(f"wall time          {wall:.2f} s (generating the cohort included)")
    print(f"cpu time           {cpu:.2f} s, all processes (wall x workers on an idle machine)")
    print(
        f"load average       {os.getloadavg()[0]:.2f} (other work on the machine slows the wall time)"
    )
    print(f"customers/s        {result.customers / wall:,.0f}")
    print(f"engine steps       {result.steps:,} ({result.steps / wall:,.0f} steps/s)")
    print(
        f"funnel             enrolled {result.enrolled}, converted {result.conversions.count} "
        f"({result.conversions.rate:.1%}), messages sent {sent:,}, "
        + ", ".join(f"{item.status} {item.count}" for item in result.ended)
    )


if __name__ == "__main__":
    main()
