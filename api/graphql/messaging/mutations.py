"""Setting the tenant's messaging policy (admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Forbidden, InvalidInput, described_mutation
from api.graphql.context import Info
from api.graphql.journeys.inputs import to_raw
from api.graphql.messaging.types import MessagingPolicy, MessagingPolicyInput
from domain.errors import InvalidInputError

SetMessagingPolicyResult = Annotated[
    MessagingPolicy | InvalidInput | Forbidden,
    strawberry.union(
        "SetMessagingPolicyResult",
        description="The policy as stored; `InvalidInput` naming each bad field (nothing "
        "stored); `Forbidden` for any key but an admin's.",
    ),
]


@strawberry.type
class MessagingMutations:
    @described_mutation(
        "Replace the tenant's frequency caps and quiet hours; sends from then on are counted "
        "and held by them. Admin keys only (`manage_channels`)."
    )
    async def set_messaging_policy(
        self,
        info: Info,
        input: Annotated[MessagingPolicyInput, strawberry.argument(description="The policy.")],
    ) -> SetMessagingPolicyResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        try:
            policy = await info.context.services.messaging.put(
                info.context.tenant_id, to_raw(input)
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        return MessagingPolicy.of(policy)
