"""Enrollment reads (MongoDB projections, scoped to the caller's tenant)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.common import After, Connection, First, described_field, page_limit
from api.graphql.context import Info
from api.graphql.enrollments.types import Enrollment, EnrollmentStatus
from domain.enrollments import EnrollmentStatus as StatusValue


@strawberry.input(description="Which enrollments to list; every given criterion must hold.")
class EnrollmentFilter:
    journey_id: strawberry.ID | None = strawberry.field(default=None, description="The journey.")
    version: int | None = strawberry.field(
        default=None, description="The journey version the enrollments are pinned to."
    )
    node_id: str | None = strawberry.field(
        default=None, description="Enrollments currently at (or ended on) this node."
    )
    status: list[EnrollmentStatus] | None = strawberry.field(
        default=None,
        description="Any of these statuses; `[ACTIVE, PAUSED]` lists the running ones.",
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer the enrollments were started for."
    )


def _statuses(statuses: list[EnrollmentStatus] | None) -> list[StatusValue]:
    return [status.value for status in statuses or []]


@strawberry.type
class EnrollmentQueries:
    @described_field("One enrollment, or null when the tenant has none with this id.")
    async def enrollment(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The enrollment (workflow) id.")
        ],
    ) -> Enrollment | None:
        model = await info.context.services.store.enrollments.get(info.context.tenant_id, id)
        return None if model is None else Enrollment.of(model)

    @described_field(
        "Enrollments in start order (oldest first), filtered by journey, version, current node, "
        "status and customer. `totalCount` counts every match."
    )
    async def enrollments(
        self,
        info: Info,
        filter: Annotated[
            EnrollmentFilter | None,
            strawberry.argument(description="Criteria that must all hold (default: all)."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Enrollment]:
        wanted = filter or EnrollmentFilter()
        tenant_id = info.context.tenant_id
        repository = info.context.services.store.enrollments
        journey = wanted.journey_id
        customer = wanted.customer_id
        statuses = _statuses(wanted.status)
        page = await repository.list(
            tenant_id,
            journey_id=journey,
            version=wanted.version,
            node=wanted.node_id,
            status=statuses or None,
            customer_id=customer,
            cursor=after,
            limit=page_limit(first),
        )

        async def count() -> int:
            return await repository.count(
                tenant_id,
                journey_id=journey,
                version=wanted.version,
                node=wanted.node_id,
                status=statuses,
                customer_id=customer,
            )

        return Connection.of(page, Enrollment.of, after=after, counter=count)
