"""Setting and clearing the tenant's SMS provider account (admins only). Each answers a union."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Conflict, Forbidden, InvalidInput, described_mutation
from api.graphql.context import Info
from api.graphql.sms.types import SmsProvider, SmsSettings, SmsSettingsCleared
from api.services.sms_settings import SmsSettingsInput
from domain.errors import ConflictError, InvalidInputError

ConfigureSmsResult = Annotated[
    SmsSettings | InvalidInput | Conflict | Forbidden,
    strawberry.union(
        "ConfigureSmsResult",
        description="`SmsSettings` as stored; `InvalidInput` for malformed settings, a base URL "
        "this server does not allow, or a secret missing where it is required; `Conflict` when "
        "the generated callback id collides (retry); `Forbidden` for any key but an admin's.",
    ),
]
ClearSmsSettingsResult = Annotated[
    SmsSettingsCleared | Forbidden,
    strawberry.union(
        "ClearSmsSettingsResult",
        description="`SmsSettingsCleared`; `Forbidden` for any key but an admin's.",
    ),
]


@strawberry.input(
    description="The tenant's SMS provider account. The secret is write-only: required the "
    "first time and with a new provider, base URL or access key id; omitted otherwise keeps it."
)
class ConfigureSmsInput:
    """The tenant's SMS provider account; the secret is write-only."""

    provider: SmsProvider = strawberry.field(description="The provider to send through.")
    access_key_id: str = strawberry.field(
        description="Alibaba Cloud AccessKey ID / Tencent Cloud SecretId (1 to 128 characters)."
    )
    sign_name: str = strawberry.field(description="The approved sign name, 1 to 64 characters.")
    secret: str | None = strawberry.field(
        default=None,
        description="Alibaba Cloud AccessKey Secret / Tencent Cloud SecretKey; omitted: keep "
        "the stored one.",
    )
    sdk_app_id: str | None = strawberry.field(
        default=None, description="Tencent Cloud's SmsSdkAppId (required for Tencent)."
    )
    region: str | None = strawberry.field(
        default=None,
        description="Region; omitted: `cn-hangzhou` (Alibaba Cloud) / `ap-guangzhou` (Tencent).",
    )
    base_url: str | None = strawberry.field(
        default=None,
        description="The API root; omitted: the provider's own (`https://dysmsapi.aliyuncs.com/`"
        ", `https://sms.tencentcloudapi.com/`). Other roots only if this server allows them.",
    )


def _admin_only() -> Forbidden:
    return Forbidden.of(Permission.MANAGE_CHANNELS)


@strawberry.type
class SmsMutations:
    @described_mutation("Set (or change) the tenant's SMS provider account. Admin keys only.")
    async def configure_sms(
        self,
        info: Info,
        input: Annotated[
            ConfigureSmsInput,
            strawberry.argument(description="The account's settings and (write-only) secret."),
        ],
    ) -> ConfigureSmsResult:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return _admin_only()
        given = SmsSettingsInput(
            provider=str(input.provider.value),
            access_key_id=input.access_key_id,
            sign_name=input.sign_name,
            secret=input.secret,
            sdk_app_id=input.sdk_app_id,
            region=input.region,
            base_url=input.base_url,
        )
        try:
            settings = await info.context.services.sms_settings.configure(
                info.context.tenant_id, given
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return SmsSettings.of(settings)

    @described_mutation(
        "Forget the tenant's SMS provider account (its callback URL stops answering). Admin "
        "keys only."
    )
    async def clear_sms_settings(self, info: Info) -> ClearSmsSettingsResult:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return _admin_only()
        cleared = await info.context.services.sms_settings.clear(info.context.tenant_id)
        return SmsSettingsCleared(cleared=cleared)
