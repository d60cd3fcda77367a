"""Customer reads, scoped to the caller's tenant: one customer, or a search."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import After, Connection, First, described_field, page_limit
from api.graphql.context import Info
from api.graphql.customers.types import ConsentStatus, Customer
from api.graphql.enrollments.types import EnrollmentStatus
from domain.errors import NotFoundError
from store.customers import CustomerSearch


@strawberry.input(description="Customers whose attribute `key` equals `value`.")
class AttributeFilter:
    key: str = strawberry.field(description="The attribute name.")
    value: JSON = strawberry.field(
        description="The value it must equal (JSON; compared as data, so objects may not hold "
        "keys starting with `$`)."
    )


@strawberry.input(description="Customers known by this identity.")
class IdentityFilter:
    kind: str | None = strawberry.field(
        default=None,
        description="The identity kind (`phone`, `unionid`...); omit it to match the value "
        "under any kind, on any channel.",
    )
    value: str = strawberry.field(
        description="The identity value, normalized as its kind requires (phones to digits, "
        "e-mails to lowercase)."
    )


@strawberry.input(description="Customers by tags; both lists may be given.")
class TagFilter:
    all: list[str] | None = strawberry.field(default=None, description="Has every one of these.")
    any: list[str] | None = strawberry.field(default=None, description="Has at least one of these.")


@strawberry.input(description="Customers whose consent on `channel` has `status`.")
class ConsentFilter:
    channel: str = strawberry.field(description="The channel name (`sms`, `email`, `wecom`...).")
    status: ConsentStatus = strawberry.field(
        description="The status it must have (a channel never asked has neither)."
    )


@strawberry.input(
    description="Customers with an enrollment in a journey, optionally at a node and in a status."
)
class JourneyMembershipFilter:
    journey_id: strawberry.ID = strawberry.field(description="The journey.")
    node_id: str | None = strawberry.field(
        default=None, description="Whose enrollment is currently at (or ended on) this node."
    )
    status: list[EnrollmentStatus] | None = strawberry.field(
        default=None, description="Whose enrollment has one of these statuses."
    )


@strawberry.input(
    description="Which customers to find; every given criterion must hold. Merged-away records "
    "are left out (their surviving customer is found instead)."
)
class CustomerFilter:
    identity: IdentityFilter | None = strawberry.field(
        default=None, description="By identity, of one kind or any."
    )
    tags: TagFilter | None = strawberry.field(default=None, description="By tags.")
    attributes: list[AttributeFilter] | None = strawberry.field(
        default=None, description="Each attribute must equal its value."
    )
    hook: str | None = strawberry.field(
        default=None, description="The hook (channel code `state`) that first brought them in."
    )
    consent: list[ConsentFilter] | None = strawberry.field(
        default=None, description="Each channel's consent must have its status."
    )
    journey: JourneyMembershipFilter | None = strawberry.field(
        default=None, description="By journey membership (at a node, in a status)."
    )


def customer_search(filter: CustomerFilter | None) -> CustomerSearch:
    """The store's search for a GraphQL customer filter (none: every customer)."""
    wanted = filter or CustomerFilter()
    tags_all = list(wanted.tags.all or []) if wanted.tags else []
    journey = wanted.journey
    return CustomerSearch(
        identity_kind=wanted.identity.kind if wanted.identity else None,
        identity_value=wanted.identity.value if wanted.identity else None,
        tags_all=tags_all,
        tags_any=list(wanted.tags.any or []) if wanted.tags else [],
        attributes={a.key: a.value for a in wanted.attributes or []},
        hook=wanted.hook,
        consent={c.channel: c.status.value for c in wanted.consent or []},
        journey_id=journey.journey_id if journey else None,
        journey_node=journey.node_id if journey else None,
        journey_statuses=[s.value for s in journey.status or []] if journey else [],
    )


CUSTOMER_ID = "The customer id."


@strawberry.type
class CustomerQueries:
    @described_field(
        "A customer, or null when the tenant has none with this id. A merged-away id answers "
        "the customer it was merged into."
    )
    async def customer(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description=CUSTOMER_ID)]
    ) -> Customer | None:
        try:
            model = await info.context.services.store.customers.get(info.context.tenant_id, id)
        except NotFoundError:
            return None
        return Customer.of(model)

    @described_field("The customer with this identity (value normalized), or null.")
    async def customer_by_identity(
        self,
        info: Info,
        kind: Annotated[str, strawberry.argument(description="The identity kind (`phone`...).")],
        value: Annotated[str, strawberry.argument(description="The value; normalized first.")],
    ) -> Customer | None:
        model = await info.context.services.store.customers.get_by_identity(
            info.context.tenant_id, kind, value
        )
        return None if model is None else Customer.of(model)

    @described_field(
        "Customers in creation order (oldest first) matching `filter`: by identity (any "
        "channel), tags (all / any), attribute equality, first-touch hook, consent per channel, "
        "and journey "
        "membership (at a node, in a status). `totalCount` is null for journey membership "
        "combined with other criteria (counting it would join collections)."
    )
    async def customers(
        self,
        info: Info,
        filter: Annotated[
            CustomerFilter | None,
            strawberry.argument(description="Criteria that must all hold (default: everyone)."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Customer]:
        search = customer_search(filter)
        repository = info.context.services.store.customers
        tenant_id = info.context.tenant_id
        page = await repository.search(tenant_id, search, cursor=after, limit=page_limit(first))
        await info.context.loaders.prefetch_customer_lists(
            info._raw_info, [customer.id for customer in page.items]
        )

        async def count() -> int | None:
            return await repository.count(tenant_id, search)

        return Connection.of(page, Customer.of, after=after, counter=count)
