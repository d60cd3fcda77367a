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

Look-ahead: resolved item by item, each customer's `enrollments` and each enrollment's
`deliveries` would be an awaitable of its own (a coroutine, a task, a future per item, 300 for a
page of 100), and that machinery cost more than the data. So the `customers` list reads ahead:
`prefetch_customer_lists` looks at the selection under its `nodes`, and for each `enrollments`
(and, under it, `deliveries`) field asked without a cursor, loads those first pages for the
whole page up front through the same loaders, in the same queries. The nested resolvers then
find their page with `peek_*` and answer synchronously; anything not read ahead (a fragment, a
directive, a cursor) is loaded as before.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar, get_args

from graphql import (
    EnumValueNode,
    FieldNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    IntValueNode,
    ListValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from strawberry.dataloader import DataLoader

from api.graphql.common import page_limit
from domain.customers import Customer
from domain.deliveries import Delivery
from domain.enrollments import Enrollment, EnrollmentStatus, Transition
from domain.errors import InvalidInputError
from store.database import Store
from store.pagination import Page

CustomerEnrollmentsKey = tuple[str, tuple[EnrollmentStatus, ...], int]
"""(customer id, statuses (empty: any), page size)."""
EnrollmentPageKey = tuple[str, int]
"""(enrollment id, page size)."""

STATUS_VALUES: dict[str, EnrollmentStatus] = {
    value.upper(): value for value in get_args(EnrollmentStatus)
}
"""GraphQL `EnrollmentStatus` names -> the stored values."""

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
        self._enrollment_pages: dict[CustomerEnrollmentsKey, Page[Enrollment]] = {}
        self._delivery_pages: dict[EnrollmentPageKey, Page[Delivery]] = {}

    def peek_customer_enrollments(self, key: CustomerEnrollmentsKey) -> Page[Enrollment] | None:
        """The page `customer_enrollments` has loaded for `key` in this request, if it has."""
        return self._enrollment_pages.get(key)

    def peek_enrollment_deliveries(self, key: EnrollmentPageKey) -> Page[Delivery] | None:
        """The page `enrollment_deliveries` has loaded for `key` in this request, if it has."""
        return self._delivery_pages.get(key)

    async def prefetch_customer_lists(
        self, info: GraphQLResolveInfo[Any], customer_ids: Sequence[str]
    ) -> None:
        """Load ahead the first pages of the customers' `enrollments`, and of those
        enrollments' `deliveries`, that the selection of the connection field being resolved
        (`info`) asks for under `nodes` (see the module docstring)."""
        variables = _variables(info)
        connection = get_named_type(info.return_type)
        enrollment_keys: list[CustomerEnrollmentsKey] = []
        delivery_limits: list[int] = []
        for customer_type, nodes in _fields(info.field_nodes, connection, "nodes"):
            for field_type, field in _fields([nodes], customer_type, "enrollments"):
                args = _page_arguments(field, variables)
                if args is None:
                    continue
                limit, statuses = args
                enrollment_keys += [(c, statuses, limit) for c in customer_ids]
                for enrollment_type, inner in _fields([field], field_type, "nodes"):
                    for _, deliveries in _fields([inner], enrollment_type, "deliveries"):
                        inner_args = _page_arguments(deliveries, variables)
                        if inner_args is not None and not inner_args[1]:
                            delivery_limits.append(inner_args[0])
        if not enrollment_keys:
            return
        pages = await self.customer_enrollments.load_many(list(dict.fromkeys(enrollment_keys)))
        enrollment_ids = list(dict.fromkeys(e.id for page in pages for e in page.items))
        delivery_keys = [(e, n) for n in dict.fromkeys(delivery_limits) for e in enrollment_ids]
        if delivery_keys:
            await self.enrollment_deliveries.load_many(delivery_keys)

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

        pages = await _by_arguments([(c, (s, n)) for c, s, n in keys], fetch)
        self._enrollment_pages.update(zip(keys, pages, strict=True))
        return pages

    async def _enrollment_deliveries(self, keys: list[EnrollmentPageKey]) -> list[Page[Delivery]]:
        async def fetch(ids: list[str], limit: int) -> dict[str, Page[Delivery]]:
            return await self._store.deliveries.first_pages_for_enrollments(
                self._tenant_id, ids, limit=limit
            )

        pages = await _by_arguments(keys, fetch)
        self._delivery_pages.update(zip(keys, pages, strict=True))
        return pages

    async def _enrollment_transitions(
        self, keys: list[EnrollmentPageKey]
    ) -> list[Page[Transition]]:
        async def fetch(ids: list[str], limit: int) -> dict[str, Page[Transition]]:
            return await self._store.enrollments.first_transition_pages(
                self._tenant_id, ids, limit=limit
            )

        return await _by_arguments(keys, fetch)


def _variables(info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    # strawberry hands resolvers the coerced values; graphql-core's own executor, a container
    values: Any = info.variable_values
    return dict(getattr(values, "coerced", values) or {})


def _fields(
    parents: Sequence[FieldNode], parent_type: GraphQLNamedType, name: str
) -> Iterator[tuple[GraphQLNamedType, FieldNode]]:
    """The fields named `name` selected directly (no fragment, no directive) under `parents`,
    with their named type."""
    if not isinstance(parent_type, GraphQLObjectType) or name not in parent_type.fields:
        return
    field_type = get_named_type(parent_type.fields[name].type)
    for parent in parents:
        for selection in parent.selection_set.selections if parent.selection_set else ():
            if (
                isinstance(selection, FieldNode)
                and selection.name.value == name
                and not selection.directives
            ):
                yield field_type, selection


def _page_arguments(
    field: FieldNode, variables: dict[str, Any]
) -> tuple[int, tuple[EnrollmentStatus, ...]] | None:
    """(page size, statuses) of a first-page list field as its resolver will compute them, or
    None when it is not a first page or its arguments take more than reading them."""
    given = {argument.name.value: argument.value for argument in field.arguments or ()}
    if set(given) - {"first", "after", "status"}:
        return None
    if "after" in given and _value(given["after"], variables) is not None:
        return None
    first = _value(given["first"], variables) if "first" in given else None
    if first is not None and (isinstance(first, bool) or not isinstance(first, int)):
        return None
    status = _value(given["status"], variables) if "status" in given else None
    try:
        limit = page_limit(first)
        statuses = tuple(_status(item) for item in status or ())
    except (ValueError, KeyError, TypeError, InvalidInputError):
        return None  # the resolver reports it
    return limit, statuses


def _value(node: ValueNode, variables: dict[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, ListValueNode):
        return [_value(item, variables) for item in node.values]
    if isinstance(node, EnumValueNode):
        return node.value
    if node.kind == "null_value":
        return None
    raise TypeError(f"unexpected argument value {node.kind}")


def _status(value: Any) -> EnrollmentStatus:
    """A status given as a GraphQL enum name (a literal) or the enum member (a variable)."""
    if isinstance(value, str):
        return STATUS_VALUES[value]
    return STATUS_VALUES[value.name]
