"""Customer reads, scoped to the caller's tenant."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import Connection, described_field, page_limit
from api.graphql.context import Info
from api.graphql.customers.types import Customer
from domain.errors import NotFound


@strawberry.input
class AttributeFilter:
    """Customers whose attribute `key` equals `value`."""

    key: str
    value: JSON


@strawberry.type
class CustomerQueries:
    @described_field("A customer (following merges), or null.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        try:
            model = await info.context.services.store.customers.get(info.context.tenant_id, id)
        except NotFound:
            return None
        return Customer.of(model)

    @described_field("The customer with this identity (value normalized), or null.")
    async def customer_by_identity(self, info: Info, kind: str, value: str) -> Customer | None:
        model = await info.context.services.store.customers.get_by_identity(
            info.context.tenant_id, kind, value
        )
        return None if model is None else Customer.of(model)

    @described_field("Customers in creation order, filtered by tag and attributes.")
    async def customers(
        self,
        info: Info,
        tag: str | None = None,
        attributes: list[AttributeFilter] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Customer]:
        page = await info.context.services.store.customers.list(
            info.context.tenant_id,
            tag=tag,
            attributes={a.key: a.value for a in attributes or []} or None,
            cursor=after,
            limit=page_limit(first),
        )
        return Connection.of(page, Customer.of)
