"""The demo's forecast: before customers play the demo journey, one simulation of its real-timing
twin (the seeded draft `douyin-wecom-repurchase`) over 5,000 synthetic customers and 90 days,
asked for through GraphQL (`simulateJourney`, then `simulation(id)`) like a designer would, and
printed in a few lines: sends per channel, what quiet hours, caps and WeCom's allowance held or
refused, the funnel's main steps and the predicted conversion.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from runtime.seed import REAL_JOURNEY
from simulator.models import Delay, SimulationOptions, SyntheticCohort
from simulator.presets import canonical_cohort, canonical_options

CUSTOMERS = 5_000
DAYS = 90
POLL_EVERY = 0.5
MAX_POLLS = 600
SIMULATE = """
mutation Forecast($journeyId: ID!, $cohort: SimulationCohortInput!, $days: Int,
                  $options: SimulationOptionsInput) {
  simulateJourney(journeyId: $journeyId, draft: true, cohort: $cohort, days: $days,
                  options: $options) {
    __typename
    ... on BulkOperation { id }
    ... on ValidationFailed { problems { message } }
    ... on InvalidInput { errors { path message } }
    ... on NotFound { message }
    ... on Forbidden { message }
  }
}
"""
SIMULATION = """
query Forecast($id: ID!) {
  simulation(id: $id) {
    operation { status percent error }
    result {
      enrolled
      nodes { nodeId customers }
      channels { channel totals { sent heldQuietHours heldCap skippedCap skippedAllowance } }
      capHits { capId held skipped customers }
      conversions { count rate p50Hours }
    }
  }
}
"""
FUNNEL = (
    ("entry", "scanned"),
    ("wait_day1", "joined the group"),
    ("first_order", "bought"),
    ("tag_repeat", "bought again"),
)
"""Funnel steps the forecast names (node, label), when the journey has them."""


def _delay(delay: Delay | None) -> dict[str, Any] | None:
    if delay is None:
        return None
    return {
        "kind": delay.kind.upper(),
        "hours": delay.hours,
        "minHours": delay.min_hours,
        "maxHours": delay.max_hours,
        "sigma": delay.sigma,
    }


def cohort_input(cohort: SyntheticCohort) -> dict[str, Any]:
    """A synthetic cohort as `SyntheticCohortInput`."""
    return {
        "size": cohort.size,
        "seed": cohort.seed,
        "start": cohort.start.isoformat(),
        "arrivalDays": cohort.arrival_days,
        "arrival": cohort.arrival.upper(),
        "entryEventType": cohort.entry_event_type,
        "entryProperties": cohort.entry_properties,
        "events": [
            {
                "type": e.type,
                "probability": e.probability,
                "delay": _delay(e.delay),
                "after": e.after.upper(),
                "properties": e.properties,
                "repeatProbability": e.repeat_probability,
                "maxRepeats": e.max_repeats,
                "repeatDelay": _delay(e.repeat_delay),
            }
            for e in cohort.events
        ],
        "facts": cohort.facts.model_dump(mode="json"),
    }


def options_input(options: SimulationOptions) -> dict[str, Any]:
    """Options as `SimulationOptionsInput`."""
    return {
        "seed": options.seed,
        "actionSuccessRate": options.action_success_rate,
        "reactions": [r.model_dump(mode="json") for r in options.reactions],
    }


def _n(value: int) -> str:
    return f"{value:,}"


def summary(result: dict[str, Any], seconds: float) -> list[str]:
    """The forecast in a few lines."""
    sends = " · ".join(
        f"{c['channel']} {_n(c['totals']['sent'])}"
        for c in sorted(result["channels"], key=lambda c: -c["totals"]["sent"])
    )
    totals = [c["totals"] for c in result["channels"]]
    quiet = sum(t["heldQuietHours"] for t in totals)
    allowance = sum(t["skippedAllowance"] for t in totals)
    capped = sum(t["heldCap"] + t["skippedCap"] for t in totals)
    nodes = {node["nodeId"]: node for node in result["nodes"]}
    steps = " → ".join(f"{label} {_n(nodes[n]['customers'])}" for n, label in FUNNEL if n in nodes)
    conversions = result["conversions"]
    median = conversions["p50Hours"]
    took = "" if median is None else f", median {median / 24:.1f} days after entry"
    return [
        # the multiplication sign reads "customers by days", as in the issue's own figures
        f"forecast: simulated {_n(CUSTOMERS)} customers × {DAYS} days of the real-timing "  # noqa: RUF001
        f"journey in {seconds:.1f} s (nothing sent):",
        f"  sends      {sends}",
        f"  held       quiet hours {_n(quiet)} · frequency caps {_n(capped)} · "
        f"WeCom monthly allowance refused {_n(allowance)}",
        f"  funnel     {steps}",
        f"  converts   {conversions['rate'] * 100:.1f}% ({_n(conversions['count'])}){took}",
    ]


async def forecast(
    base_url: str, api_key: str, say: Callable[[str], None] = print
) -> dict[str, Any] | None:
    """Simulate the seeded real-timing journey's draft and print the summary; the result, or
    None when the simulation could not run (said why)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    began = time.monotonic()
    say("forecast: simulating the real-timing journey's draft (simulateJourney) ...")
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:

        async def call(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
            body: dict[str, Any] = response.json()
            if body.get("errors"):
                raise RuntimeError(f"GraphQL error: {body['errors']}")
            data: dict[str, Any] = body["data"]
            return data

        started = (
            await call(
                SIMULATE,
                {
                    "journeyId": REAL_JOURNEY,
                    "cohort": {"synthetic": cohort_input(canonical_cohort(CUSTOMERS))},
                    "days": DAYS,
                    "options": options_input(canonical_options(DAYS)),
                },
            )
        )["simulateJourney"]
        if started["__typename"] != "BulkOperation":
            say(f"forecast: not simulated ({started['__typename']}): {started}")
            return None
        for _ in range(MAX_POLLS):
            found = (await call(SIMULATION, {"id": started["id"]}))["simulation"]
            status = found["operation"]["status"]
            if status == "FAILED":
                say(f"forecast: the simulation failed: {found['operation']['error']}")
                return None
            if status == "SUCCEEDED" and found["result"] is not None:
                result: dict[str, Any] = found["result"]
                for line in summary(result, time.monotonic() - began):
                    say(line)
                return result
            await asyncio.sleep(POLL_EVERY)
    say("forecast: the simulation did not finish in time")
    return None
