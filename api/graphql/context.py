"""The typed context every resolver receives: who is calling and the services it may use."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from api.auth import Permission, Principal
from api.graphql.loaders import Loaders
from api.services.container import Services


@dataclass(frozen=True, slots=True)
class Context:
    """Per request: the authenticated principal, the app's services, and the request's
    dataloaders (made with the context, so their cache never outlives it)."""

    principal: Principal
    services: Services
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        # frozen: the loaders are derived from the other fields, set once here
        object.__setattr__(self, "loaders", Loaders(self.services.store, self.principal.tenant_id))

    @property
    def tenant_id(self) -> str:
        """The tenant every read and write of this request is scoped to."""
        return self.principal.tenant_id

    def can(self, permission: Permission) -> bool:
        """Whether the caller's role grants `permission`."""
        return self.principal.can(permission)


Info = strawberry.Info[Context, None]
