"""Setting and clearing the tenant's SMTP settings (admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Forbidden, InvalidInput, described_mutation
from api.graphql.context import Info
from api.graphql.email.types import EmailSecurity, EmailSettings, EmailSettingsCleared
from api.services.email_settings import EmailSettingsInput
from domain.email import SmtpSecurity
from domain.errors import InvalidInputError

_SECURITY: dict[EmailSecurity, SmtpSecurity] = {
    EmailSecurity.STARTTLS: "starttls",
    EmailSecurity.TLS: "tls",
    EmailSecurity.NONE: "none",
}

ConfigureEmailResult = Annotated[
    EmailSettings | InvalidInput | Forbidden,
    strawberry.union(
        "ConfigureEmailResult",
        description="`EmailSettings` as stored; `InvalidInput` for a malformed field, a host "
        "the deployment does not allow (EMAIL_ALLOWED_NETWORKS) or a password missing with a "
        "new login; `Forbidden` for any key but an admin's.",
    ),
]
ClearEmailSettingsResult = Annotated[
    EmailSettingsCleared | Forbidden,
    strawberry.union(
        "ClearEmailSettingsResult",
        description="`EmailSettingsCleared`; `Forbidden` for any key but an admin's.",
    ),
]


@strawberry.input(
    description="The tenant's SMTP server and sender. The password is write-only; omitted, the "
    "stored one is kept while the host and username stay the same."
)
class ConfigureEmailInput:
    """The tenant's SMTP server and sender; the password is write-only."""

    host: str = strawberry.field(
        description="The SMTP server's host name; it must be public unless the deployment "
        "allows it (EMAIL_ALLOWED_NETWORKS)."
    )
    port: int = strawberry.field(description="1 to 65535: 587 for STARTTLS, 465 for TLS.")
    from_address: str = strawberry.field(description="The sender address, `name@domain.tld`.")
    security: EmailSecurity = strawberry.field(
        default=EmailSecurity.STARTTLS, description="How the connection is protected."
    )
    username: str | None = strawberry.field(
        default=None, description="The login (with `password`); omitted or null: no AUTH."
    )
    password: str | None = strawberry.field(
        default=None,
        description="The login's password; omitted: keep the stored one (required with a new "
        "host or username).",
    )
    from_name: str | None = strawberry.field(
        default=None, description="The `From` display name (one line, at most 128 characters)."
    )
    unsubscribe_mailto: str | None = strawberry.field(
        default=None,
        description="An address that unsubscribes whoever writes to it, listed in "
        "`List-Unsubscribe` after the one-click link.",
    )


@strawberry.type
class EmailMutations:
    @described_mutation(
        "Set the tenant's SMTP server and sender for the `email` channel, replacing any. "
        "Admin keys only."
    )
    async def configure_email(
        self,
        info: Info,
        input: Annotated[
            ConfigureEmailInput,
            strawberry.argument(description="The server, sender and (write-only) password."),
        ],
    ) -> ConfigureEmailResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        given = EmailSettingsInput(
            host=input.host,
            port=input.port,
            from_address=input.from_address,
            security=_SECURITY[input.security],
            username=input.username,
            password=input.password,
            from_name=input.from_name,
            unsubscribe_mailto=input.unsubscribe_mailto,
        )
        try:
            settings = await info.context.services.email_settings.configure(
                info.context.tenant_id, given
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        return EmailSettings.of(settings)

    @described_mutation(
        "Forget the tenant's SMTP settings: `email` actions then fail as not configured "
        "(unsubscribe links already sent keep working). Admin keys only."
    )
    async def clear_email_settings(self, info: Info) -> ClearEmailSettingsResult:
        if not info.context.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        cleared = await info.context.services.email_settings.clear(info.context.tenant_id)
        return EmailSettingsCleared(cleared=cleared)
