"""The e-mail settings' public view and the answers of their mutations."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.graphql.common import described_values
from domain.email import EmailSettings as EmailSettingsModel


@described_values(
    STARTTLS="Connect in plain text, then upgrade with STARTTLS (port 587).",
    TLS="TLS from the first byte (port 465).",
    NONE="Never encrypted: for a relay on a trusted network only.",
)
@strawberry.enum(description="How the connection to the SMTP server is protected.")
class EmailSecurity(Enum):
    """STARTTLS upgrade, TLS from the first byte, or none (local relays only)."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


@strawberry.type(
    description="The tenant's SMTP server and sender; the password is never returned, only "
    "whether one is stored."
)
class EmailSettings:
    """The tenant's SMTP settings without the password."""

    host: str = strawberry.field(description="The SMTP server's host name or address.")
    port: int = strawberry.field(description="The SMTP server's port.")
    security: EmailSecurity = strawberry.field(description="How the connection is protected.")
    username: str | None = strawberry.field(description="The login; null: no AUTH.")
    password_set: bool = strawberry.field(description="Whether a password is stored.")
    from_address: str = strawberry.field(description="The envelope sender and `From` address.")
    from_name: str | None = strawberry.field(
        description="The `From` display name; null: the address only."
    )
    unsubscribe_mailto: str | None = strawberry.field(
        description="An address listed in `List-Unsubscribe` after the one-click https link; "
        "null: the link only."
    )

    @classmethod
    def of(cls, settings: EmailSettingsModel) -> EmailSettings:
        public = settings.public()
        return cls(
            host=public["host"],
            port=public["port"],
            security=EmailSecurity(public["security"]),
            username=public["username"],
            password_set=public["password_set"],
            from_address=public["from_address"],
            from_name=public["from_name"],
            unsubscribe_mailto=public["unsubscribe_mailto"],
        )


@strawberry.type(description="The answer of `clearEmailSettings`.")
class EmailSettingsCleared:
    """Whether there were settings to clear."""

    cleared: bool = strawberry.field(
        description="True when settings were stored and are now gone; false when there were none."
    )
