"""Reading the tenant's messaging policy."""

from __future__ import annotations

import strawberry

from api.graphql.common import described_field
from api.graphql.context import Info
from api.graphql.messaging.types import MessagingPolicy


@strawberry.type
class MessagingQueries:
    @described_field(
        "The tenant's frequency caps and quiet hours (any role may read them: designers plan "
        "journeys around them)."
    )
    async def messaging_policy(self, info: Info) -> MessagingPolicy:
        return MessagingPolicy.of(await info.context.services.messaging.get(info.context.tenant_id))
