"""The webhook signing secret's public view, and the one answer that carries the secret."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.webhooks import WebhookSecretInfo


@strawberry.type(
    description="The tenant's webhook signing secret, without the secret: whether one is set, "
    "when it was made and until when the one it replaced still signs deliveries."
)
class WebhookSettings:
    """The tenant's webhook signing secret, without the secret."""

    secret_set: bool = strawberry.field(
        description="Whether the tenant has a signing secret (one is made on its first "
        "webhook delivery, or by `rotateWebhookSecret`)."
    )
    created_at: datetime | None = strawberry.field(
        description="When the current secret was made; null when none is set."
    )
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="Until when the secret the current one replaced still signs deliveries "
        "(a second `sha256=` signature in `X-Omnijourney-Signature`); null: no overlap."
    )

    @classmethod
    def of(cls, info: WebhookSecretInfo | None) -> WebhookSettings:
        if info is None:
            return cls(secret_set=False, created_at=None, previous_secret_valid_until=None)
        return cls(
            secret_set=True,
            created_at=info.created_at,
            previous_secret_valid_until=info.previous_valid_until,
        )


@strawberry.type(
    description="A new webhook signing secret. `secret` is shown only in this answer: store it "
    "with the receiver now; it cannot be read again (rotate again if it is lost)."
)
class WebhookSecretRotated:
    """A new webhook signing secret, shown only in this answer."""

    secret: str = strawberry.field(
        description="The new signing secret (`whsec_…`): the HMAC-SHA256 key receivers verify "
        "`X-Omnijourney-Signature` with. Never shown again."
    )
    settings: WebhookSettings = strawberry.field(
        description="The secret's metadata, as `webhookSettings` now answers it."
    )
