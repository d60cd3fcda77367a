"""Issuing and revoking API keys (admin keys only). Each answers a union."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.apikeys.types import ApiKey, ApiKeyRole, CreatedApiKey
from api.graphql.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    described_mutation,
)
from api.graphql.context import Info
from domain.errors import ConflictError, InvalidInputError, NotFoundError

CreateApiKeyResult = Annotated[
    CreatedApiKey | InvalidInput | Forbidden,
    strawberry.union(
        "CreateApiKeyResult",
        description="`CreatedApiKey` with the secret, shown only here; `InvalidInput` for a "
        "blank or too long name or an expiry not in the future; `Forbidden` for any key but an "
        "admin's.",
    ),
]
RevokeApiKeyResult = Annotated[
    ApiKey | NotFound | Conflict | Forbidden,
    strawberry.union(
        "RevokeApiKeyResult",
        description="`ApiKey`, now revoked (also when it already was); `NotFound` for an unknown "
        "id or another tenant's key; `Conflict` for the tenant's last usable admin key; "
        "`Forbidden` for any key but an admin's.",
    ),
]


@strawberry.input(description="A key to issue.")
class CreateApiKeyInput:
    """A key to issue."""

    name: str = strawberry.field(description="What the key is for, 1 to 200 characters.")
    role: ApiKeyRole = strawberry.field(description="What the key may do.")
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the key stops working (with a time zone, in the future); null: never.",
    )


@strawberry.type
class ApiKeyMutations:
    @described_mutation(
        "Issue an API key for the caller's tenant; its secret is in this answer only. Admin "
        "keys only (`manage_api_keys`)."
    )
    async def create_api_key(
        self,
        info: Info,
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="The key to issue.")],
    ) -> CreateApiKeyResult:
        if not info.context.can(Permission.MANAGE_API_KEYS):
            return Forbidden.of(Permission.MANAGE_API_KEYS)
        try:
            key, raw = await info.context.services.api_keys.create(
                info.context.tenant_id, input.name, input.role.role, input.expires_at
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        return CreatedApiKey(
            api_key=ApiKey.of(key, info.context.services.api_keys.now()), secret=raw
        )

    @described_mutation(
        "Revoke one of the tenant's keys: from now on it authenticates as nothing (HTTP 401), "
        "and its open subscriptions close within about two seconds. Idempotent. A key may "
        "revoke itself, but not the tenant's last usable admin key. Admin keys only "
        "(`manage_api_keys`)."
    )
    async def revoke_api_key(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The key to revoke.")],
    ) -> RevokeApiKeyResult:
        if not info.context.can(Permission.MANAGE_API_KEYS):
            return Forbidden.of(Permission.MANAGE_API_KEYS)
        try:
            key = await info.context.services.api_keys.revoke(info.context.tenant_id, id)
        except NotFoundError as exc:
            return NotFound.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return ApiKey.of(key, info.context.services.api_keys.now())
