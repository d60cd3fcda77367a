"""A tenant's messaging policy (frequency caps, quiet hours) as admins set it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from api.services.ports import Clock, utc_now
from domain.errors import InvalidInputError
from domain.messaging import POLICY_KIND, MessagingPolicy
from store.database import Store


class MessagingPolicyService:
    """Reads and replaces the tenant's `MessagingPolicy`."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def get(self, tenant_id: str) -> MessagingPolicy:
        """The tenant's policy (the empty one when none was set)."""
        found = await self._store.channel_settings.get(tenant_id, POLICY_KIND, MessagingPolicy)
        return found or MessagingPolicy()

    async def put(self, tenant_id: str, raw: dict[str, Any]) -> MessagingPolicy:
        """Replace the policy; `InvalidInputError` naming each bad field (nothing stored)."""
        try:
            policy = MessagingPolicy.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc, prefix="input") from exc
        await self._store.channel_settings.put(tenant_id, POLICY_KIND, policy, self._clock())
        return policy
