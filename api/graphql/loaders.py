"""Dataloaders: one per list a page asks for item by item, created per request.

Resolving a page of customers field by field would ask MongoDB once per customer for its
enrollments, and once per enrollment for its deliveries. Each loader collects the keys one
execution step asks for and reads them all in one query (`$in`, grouped with `$topN`), so a page
costs a fixed number of queries whatever its size:

| loader                    | key                                   | one query            |
|---------------------------|---------------------------------------|----------------------|
| `customers`               | customer id                           | `find _id $in`       |
| `customer_enrollments`    | (customer id, statuses, page size)    | `aggregate` (`$topN`)|
| `enrollment_deliveries`   | (enrollment id, page size)            | `aggregate` (`$topN`)|
| `enrollment_transitions`  | (enrollment id, page size)            | `aggregate` (`$topN`)|

Keys asked with different arguments (two statuses, two page sizes) make one query per distinct
argument set. Loaders serve first pages; a page after a cursor is read directly. Everything is
scoped to the request's tenant, and the cache lives as long as the request.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from domain.customers import Customer
from domain.deliveries import Delivery
from domain.enrollments import Enrollment, EnrollmentStatus, Transition
from store.database import Store
from store.pagination import Page

CustomerEnrollmentsKey = tuple[str, tuple[EnrollmentStatus, ...], int]
"""(customer id, statuses (empty: any), page size)."""
EnrollmentPageKey = tuple[str, int]
"""(enrollment id, page size)."""

P = TypeVar("P", bound=Hashable)
V = TypeVar("V")


async def _by_arguments(
    keys: Sequence[tuple[str, P]], fetch: Callable[[list[str], P], Awaitable[dict[str, V]]]
) -> list[V]:
    """Answer `(id, arguments)` keys with one `fetch` per distinct arguments, concurrently."""
    groups: dict[P, list[str]] = defaultdict(list)
    for item_id, arguments in keys:
        groups[arguments].append(item_id)
    fetched = await asyncio.gather(*(fetch(ids, args) for args, ids in groups.items()))
    found = dict(zip(groups, fetched, strict=True))
    return [found[arguments][item_id] for item_id, arguments in keys]


class Loaders:
    """The dataloaders of one request, for one tenant."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self.customers: DataLoader[str, Customer | None] = DataLoader(self._customers)
        self.customer_enrollments: DataLoader[CustomerEnrollmentsKey, Page[Enrollment]] = (
            DataLoader(self._customer_enrollments)
        )
        self.enrollment_deliveries: DataLoader[EnrollmentPageKey, Page[Delivery]] = DataLoader(
            self._enrollment_deliveries
        )
        self.enrollment_transitions: DataLoader[EnrollmentPageKey, Page[Transition]] = DataLoader(
            self._enrollment_transitions
        )

    async def _customers(self, ids: list[str]) -> list[Customer | None]:
        found = await self._store.customers.get_many(self._tenant_id, ids)
        return [found.get(customer_id) for customer_id in ids]

    async def _customer_enrollments(
        self, keys: list[CustomerEnrollmentsKey]
    ) -> list[Page[Enrollment]]:
        async def fetch(
            ids: list[str], args: tuple[tuple[EnrollmentStatus, ...], int]
        ) -> dict[str, Page[Enrollment]]:
            statuses, limit = args
            return await self._store.enrollments.first_pages_for_customers(
                self._tenant_id, ids, statuses=statuses, limit=limit
            )

        return await _by_arguments([(c, (s, n)) for c, s, n in keys], fetch)

    async def _enrollment_deliveries(self, keys: list[EnrollmentPageKey]) -> list[Page[Delivery]]:
        async def fetch(ids: list[str], limit: int) -> dict[str, Page[Delivery]]:
            return await self._store.deliveries.first_pages_for_enrollments(
                self._tenant_id, ids, limit=limit
            )

        return await _by_arguments(keys, fetch)

    async def _enrollment_transitions(
        self, keys: list[EnrollmentPageKey]
    ) -> list[Page[Transition]]:
        async def fetch(ids: list[str], limit: int) -> dict[str, Page[Transition]]:
            return await self._store.enrollments.first_transition_pages(
                self._tenant_id, ids, limit=limit
            )

        return await _by_arguments(keys, fetch)
