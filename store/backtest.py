"""The backtest cohort: a tenant's real customers and the events they recorded in a past window.

`BacktestReader.cohort` walks the tenant's customers (not merged away) a page at a time in id
order and reads each page's events in `[since, until)` in one query (the `by_customer_time`
index), so memory holds one page of customers and their events at a time, whatever the
tenant's size. A customer's arrival is their first event in the window that `enters` accepts
(the journey's entry trigger, as routing would judge it), or with no `enters` their first event
in the window; the events after it are theirs to replay. Customers with no such event are left
out. At most `limit` customers are gathered: one more raises `CohortTooLargeError`, so a
caller never simulates a silently cut cohort.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from domain.customers import Customer
from domain.errors import FieldProblem, InvalidInputError
from domain.events import Event
from store.customers import CustomerRepository
from store.customers.search import CustomerSearch
from store.events import event_from_document
from store.mongo import EVENTS, collection

CUSTOMER_PAGE = 200
MAX_EVENTS_PER_CUSTOMER = 1000
"""Events of one customer replayed at most (the first ones after arrival); `BacktestPage`
counts the customers cut short."""


class CohortTooLargeError(InvalidInputError):
    """The window holds more customers than the cohort may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            [
                FieldProblem(
                    path="cohort.backtest",
                    message=f"the window holds more than {limit} customers: narrow `since` and "
                    "`until`, keep only customers who entered (`enteredOnly`), or raise `limit`",
                )
            ]
        )
        self.limit = limit


@dataclass(frozen=True, slots=True)
class BacktestCustomer:
    """One real customer: their profile, the event they arrived with and those after it."""

    customer: Customer
    arrival: Event
    events: list[Event]
    truncated: bool = False
    """More than `MAX_EVENTS_PER_CUSTOMER` events followed; only the first are in `events`."""


Enters = Callable[[Event], bool]
"""Whether an event would enroll its customer (the journey's entry trigger)."""


class BacktestReader:
    """Reads backtest cohorts over the `customers` and `events` collections."""

    def __init__(
        self,
        db: AsyncDatabase[Any],
        customers: CustomerRepository,
        *,
        page: int = CUSTOMER_PAGE,
        max_events: int = MAX_EVENTS_PER_CUSTOMER,
    ) -> None:
        self._events = collection(db, EVENTS)
        self._customers = customers
        self._page = page
        self._max_events = max_events

    async def cohort(
        self,
        tenant_id: str,
        since: datetime,
        until: datetime,
        *,
        enters: Enters | None = None,
        limit: int,
    ) -> AsyncIterator[list[BacktestCustomer]]:
        """The cohort a page of customers at a time (each page in customer-id order, possibly
        empty); `CohortTooLargeError` once more than `limit` customers qualify."""
        cursor: str | None = None
        gathered = 0
        while True:
            page = await self._customers.search(
                tenant_id, CustomerSearch(), cursor=cursor, limit=self._page
            )
            found = await self._page_cohort(tenant_id, page.items, since, until, enters)
            gathered += len(found)
            if gathered > limit:
                raise CohortTooLargeError(limit)
            yield found  # empty too: the caller hears of a long, sparse scan as it goes
            cursor = page.next_cursor
            if cursor is None:
                return

    async def _page_cohort(
        self,
        tenant_id: str,
        customers: list[Customer],
        since: datetime,
        until: datetime,
        enters: Enters | None,
    ) -> list[BacktestCustomer]:
        if not customers:
            return []
        events: dict[str, list[Event]] = {c.id: [] for c in customers}
        arrivals: dict[str, Event] = {}
        cut: set[str] = set()
        found = self._events.find(
            {
                "tenant_id": tenant_id,
                "customer_id": {"$in": list(events)},
                "timestamp": {"$gte": since, "$lt": until},
            }
        ).sort([("customer_id", 1), ("timestamp", 1), ("_id", 1)])
        async for doc in found:
            event = event_from_document(doc)
            customer_id = event.customer_id
            if customer_id not in arrivals:
                if enters is None or enters(event):
                    arrivals[customer_id] = event
                continue
            later = events[customer_id]
            if len(later) >= self._max_events:
                cut.add(customer_id)
                continue
            later.append(event)
        return [
            BacktestCustomer(c, arrivals[c.id], events[c.id], truncated=c.id in cut)
            for c in customers
            if c.id in arrivals
        ]
