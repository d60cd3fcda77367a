"""What a customer merge does to enrollments: no person walks one journey twice, or re-enters a
`never` journey because their records were two.

Resolution (`store.customers`) merges customer B (absorbed) into A (survivor) and marks B's
enrollments as not settled yet. Enrollments keep B's id — it is in the workflow id and in the
input the workflow carries, and a workflow cannot be moved mid-journey without restarting it —
so the survivor's side follows the merge instead:

- every channel action reads its customer with `customers.get`, which follows `merged_into`: a
  running enrollment of B addresses A's identities and consents; events of A (and of B's
  identities, now A's) are routed to B's running enrollments too (`running_for_customer`
  includes merged ids); the timeline reads A's and B's ids.
- `settle` (run before routing a customer's event, and by the start-up sweep) ends the doubles:
  where A and B (or several absorbed customers) are both running in one journey (one entry key,
  for `concurrent` journeys), one enrollment is kept — the survivor's, else the one that started
  first — and the others are cancelled with reason `merged`. Enrollments of B in journeys A is
  not in keep running, unchanged, for A.
- `stand_in` (its rule in `domain.routing.stand_in`) is asked before enrolling a customer: an enrollment of a customer merged into it
  stands in for the one the event would start. A running one receives the event (as
  signal-with-start would give it to a running enrollment of the survivor); for a `never`
  journey any earlier one, running or not, refuses the entry (`already_enrolled`).

The trade-off: exiting B's enrollments and enrolling A afresh would make every enrollment carry
the survivor's id, but it would restart each journey from its entry — a second welcome, a second
coupon — which is the double message this is meant to prevent. Keeping B's running costs the
lookups above (the merged ids of a customer, one query when there are none).

Limits: an enrollment whose first projection is not written yet when the survivor's event is
routed is not seen, so the survivor may be enrolled beside it; once a merge is settled it is not
looked at again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.engine import EventRef
from domain.enrollments import Enrollment, enrollment_id
from domain.routing import ReentryMode, id_entry_key, stand_in
from ingestion.clock import Clock, utc_now
from store.database import Store
from workflows import client as journeys_client

logger = logging.getLogger(__name__)

MERGED_REASON = "merged"
"""The exit reason of an enrollment ended because its customer was merged into another."""

StandInAction = Literal["signalled", "not_running", "already_enrolled"]


def _entry_key(enrollment: Enrollment) -> str:
    """What follows `{tenant}:{journey}:{customer}` in the enrollment id ('' for none)."""
    base = enrollment_id(enrollment.tenant_id, enrollment.journey_id, enrollment.customer_id)
    return enrollment.id[len(base) :]


def doubles(survivor_id: str, running: Sequence[Enrollment]) -> list[Enrollment]:
    """The running enrollments to end: all but one per journey and entry key, keeping the
    survivor's, else the one that started first."""
    groups: dict[tuple[str, str], list[Enrollment]] = {}
    for enrollment in running:
        groups.setdefault((enrollment.journey_id, _entry_key(enrollment)), []).append(enrollment)
    ended: list[Enrollment] = []
    for group in groups.values():
        keep = min(group, key=lambda e: (e.customer_id != survivor_id, e.started_at, e.id))
        ended += [e for e in group if e is not keep]
    return ended


class MergeService:
    """Settles the enrollments of merged customers (module docstring)."""

    def __init__(self, store: Store, temporal: Client, clock: Clock = utc_now) -> None:
        self._store = store
        self._temporal = temporal
        self._clock = clock

    async def settle(self, tenant_id: str, customer_id: str) -> list[str]:
        """End the double enrollments of the customer and those merged into it, if a merge into
        it is not settled yet; the ids of the enrollments asked to end."""
        unsettled = await self._store.customers.unsettled_merges(tenant_id, customer_id)
        if not unsettled:
            return []
        survivor = await self._store.customers.get(tenant_id, customer_id)
        if survivor.id != customer_id:  # merged meanwhile: settle the whole tree
            return await self.settle(tenant_id, survivor.id)
        running = await self._store.enrollments.running_for_customer(tenant_id, survivor.id)
        ended: list[str] = []
        for enrollment in doubles(survivor.id, running):
            try:
                await journeys_client.cancel(self._temporal, enrollment.id, MERGED_REASON)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise  # left unsettled: the next event or sweep tries again
                continue  # it ended meanwhile
            ended.append(enrollment.id)
        for merged_id in unsettled:
            await self._store.customers.mark_merge_settled(tenant_id, merged_id)
        if ended:
            logger.info(
                "merge into customer %s of tenant %s ended %d double enrollments",
                survivor.id,
                tenant_id,
                len(ended),
            )
        return ended

    async def stand_in(
        self,
        tenant_id: str,
        journey_id: str,
        customer_id: str,
        reentry: ReentryMode,
        entry_key: str | None,
        event: EventRef | None,
    ) -> tuple[str, StandInAction] | None:
        """An enrollment of a customer merged into `customer_id` that takes the place of
        enrolling it in the journey, and what was done with `event`; None: enroll as usual."""
        ids = await self._store.customers.with_merged(tenant_id, customer_id)
        if len(ids) == 1:
            return None
        key = id_entry_key(reentry, entry_key)
        found = await self._store.enrollments.get_many(
            tenant_id, [enrollment_id(tenant_id, journey_id, other, key) for other in ids]
        )
        own = found.pop(enrollment_id(tenant_id, journey_id, customer_id, key), None)
        decision = stand_in(own, found.values(), reentry, has_event=event is not None)
        if decision is None:
            return None
        if not decision.deliver or event is None:
            return decision.enrollment_id, "already_enrolled"
        delivered = await journeys_client.signal_event(
            self._temporal, decision.enrollment_id, event
        )
        return decision.enrollment_id, "signalled" if delivered else "not_running"

    async def sweep(self, limit: int = 100) -> int:
        """Finish merges a crash left half-done and settle unsettled ones, of every tenant (at
        start-up, then periodically); how many merges were settled."""
        await self._store.customers.finish_merges(self._clock(), limit=limit)
        settled = 0
        for tenant_id, merged_id in await self._store.customers.all_unsettled_merges(limit):
            survivor = await self._store.customers.get(tenant_id, merged_id)
            await self.settle(tenant_id, survivor.id)
            settled += 1
        return settled
