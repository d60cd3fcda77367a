"""Live feeds for subscriptions: a tailing poll of MongoDB.

Every `interval` a feed reads what was recorded since its cursor (`store.live`), minus a short
look-back, and yields each row it has not yielded before. Polling rather than change streams:
MongoDB change streams need a replica set (the production compose file runs a standalone
`mongod`); a poll works on any server and sees writes from every process (workers write the
transitions and deliveries). SecantusDB does support change streams (it presents itself as a
one-member replica set), so a change-stream feed could replace this where a replica set is
guaranteed. The cost is one small indexed query per feed per interval, and a delay of up to one
interval.

The look-back covers rows that become visible a little after rows recorded later (a transition
whose activity was retried, writers on several processes). A row whose write lags more than the
look-back behind the newest row a feed has seen is missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from api.services.ports import Clock, utc_now
from domain.enrollments import Transition
from domain.errors import FieldProblem, InvalidInputError, NotFoundError
from store.database import Store
from store.live import FeedBatch
from store.timeline import TimelineEntry

# (floor, limit): the rows recorded from `floor` on, at most `limit` of each source
Fetch = Callable[[datetime, int], Awaitable[FeedBatch]]


class LiveService:
    """Tenant-scoped feeds of transitions and customer timelines."""

    def __init__(
        self,
        store: Store,
        clock: Clock = utc_now,
        *,
        interval: float = 0.5,
        lookback: timedelta = timedelta(seconds=30),
        max_replay: timedelta = timedelta(days=1),
        batch: int = 200,
    ) -> None:
        self._store = store
        self._clock = clock
        self._interval = interval
        self._lookback = lookback
        self._max_replay = max_replay
        self._batch = batch

    async def transitions(
        self,
        tenant_id: str,
        *,
        journey_id: str,
        enrollment_id: str | None = None,
        since: datetime | None = None,
    ) -> AsyncIterator[Transition]:
        """The journey's transitions (or one enrollment's) recorded from `since` (default: now).

        `NotFoundError` when the tenant has no such journey, or the enrollment id cannot be one of
        the journey's; an enrollment that does not exist yet is waited for.
        """
        await self._store.journeys.get(tenant_id, journey_id)
        # enrollment ids are `{tenant}:{journey}:{customer}[:{key}]`
        if enrollment_id is not None and not enrollment_id.startswith(f"{tenant_id}:{journey_id}:"):
            raise NotFoundError("enrollment", enrollment_id)

        def fetch(floor: datetime, limit: int) -> Awaitable[FeedBatch]:
            return self._store.live.transitions(
                tenant_id,
                journey_id=journey_id,
                enrollment_id=enrollment_id,
                floor=floor,
                limit=limit,
            )

        async for entry in self._tail(fetch, since):
            if entry.transition is not None:
                yield entry.transition

    async def customer_timeline(
        self, tenant_id: str, customer_id: str, *, since: datetime | None = None
    ) -> AsyncIterator[TimelineEntry]:
        """Events, deliveries (again on each status change) and transitions of the customer,
        recorded from `since` (default: now). `NotFoundError` for an unknown customer."""
        customer = await self._store.customers.get(tenant_id, customer_id)
        # deliveries and transitions keep the customer id their enrollment started with
        customer_ids = await self._store.customers.with_merged(tenant_id, customer.id)

        def fetch(floor: datetime, limit: int) -> Awaitable[FeedBatch]:
            return self._store.live.customer(tenant_id, customer_ids, floor=floor, limit=limit)

        async for entry in self._tail(fetch, since):
            yield entry

    def _start(self, since: datetime | None) -> datetime:
        now = self._clock()
        if since is None:
            return now
        if since.tzinfo is None:
            raise InvalidInputError([FieldProblem(path="since", message="must carry a time zone")])
        return max(since, now - self._max_replay)

    async def _tail(self, fetch: Fetch, since: datetime | None) -> AsyncIterator[TimelineEntry]:
        start = self._start(since)
        cursor = start
        floor = start
        seen: dict[str, datetime] = {}
        limit = self._batch
        while True:
            batch = await fetch(floor, limit)
            fresh = [item for item in batch.items if item.key not in seen]
            for item in fresh:
                seen[item.key] = item.recorded_at
                yield item.entry
            if batch.items:
                cursor = max(cursor, batch.items[-1].recorded_at)
            if batch.full and batch.items[-1].recorded_at <= floor:
                # A whole batch recorded at the floor's instant: reading on from its last row
                # would read it again, so only a bigger batch gets past the tie.
                limit *= 2
                continue
            limit = self._batch
            if batch.full:
                # more rows follow: read on from the last one, without the look-back
                floor = batch.items[-1].recorded_at
                if fresh:
                    continue
            else:
                floor = max(start, cursor - self._lookback)
            seen = {key: at for key, at in seen.items() if at >= floor}
            await asyncio.sleep(self._interval)
