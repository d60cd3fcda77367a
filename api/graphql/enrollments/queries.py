"""Enrollment reads (MongoDB projections, scoped to the caller's tenant)."""

from __future__ import annotations

import strawberry

from api.graphql.common import Connection, described_field, page_limit
from api.graphql.context import Info
from api.graphql.enrollments.types import Enrollment, EnrollmentStatus


@strawberry.type
class EnrollmentQueries:
    @described_field("One enrollment, or null when the tenant has none with this id.")
    async def enrollment(self, info: Info, id: strawberry.ID) -> Enrollment | None:
        model = await info.context.services.store.enrollments.get(info.context.tenant_id, id)
        return None if model is None else Enrollment.of(model)

    @described_field("Enrollments in start order, filtered.")
    async def enrollments(
        self,
        info: Info,
        journey_id: strawberry.ID | None = None,
        status: EnrollmentStatus | None = None,
        customer_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Enrollment]:
        page = await info.context.services.store.enrollments.list(
            info.context.tenant_id,
            journey_id=journey_id,
            status=None if status is None else status.value,
            customer_id=customer_id,
            cursor=after,
            limit=page_limit(first),
        )
        return Connection.of(page, Enrollment.of)
