"""The typed context every resolver receives: who is calling and the services it may use."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from api.auth import Permission, Principal
from api.services.container import Services


@dataclass(frozen=True, slots=True)
class Context:
    """Per request: the authenticated principal and the app's services."""

    principal: Principal
    services: Services

    @property
    def tenant_id(self) -> str:
        """The tenant every read and write of this request is scoped to."""
        return self.principal.tenant_id

    def can(self, permission: Permission) -> bool:
        """Whether the caller's role grants `permission`."""
        return self.principal.can(permission)


Info = strawberry.Info[Context, None]
