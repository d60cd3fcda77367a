"""Operation reads, scoped to the caller's tenant."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.common import After, Connection, First, described_field, page_limit
from api.graphql.context import Info
from api.graphql.operations.types import BulkOperation


@strawberry.type
class OperationQueries:
    @described_field(
        "One bulk operation with its progress, or null when the tenant has none with this id. "
        "Reading an operation whose process died takes it over and carries it on."
    )
    async def operation(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The operation id.")],
    ) -> BulkOperation | None:
        model = await info.context.services.operations.get(info.context.tenant_id, id)
        return None if model is None else BulkOperation.of(model)

    @described_field(
        "Bulk operations in the order they were started (oldest first), optionally of one "
        "journey. `totalCount` counts every match."
    )
    async def operations(
        self,
        info: Info,
        journey_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this journey's.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[BulkOperation]:
        repository = info.context.services.store.operations
        tenant_id = info.context.tenant_id
        page = await repository.list(
            tenant_id, journey_id=journey_id, cursor=after, limit=page_limit(first)
        )

        async def count() -> int | None:
            return await repository.count(tenant_id, journey_id=journey_id)

        return Connection.of(page, BulkOperation.of, after=after, counter=count)
