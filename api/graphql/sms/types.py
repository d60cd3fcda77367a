"""The public view of a tenant's SMS settings, and the result of clearing them."""

from __future__ import annotations

import enum

import strawberry

from api.services.sms_settings import sms_callback_path
from domain.sms import SmsSettings as SmsSettingsModel


@strawberry.enum(
    description="The SMS provider a tenant sends through: `ALIYUN` (Alibaba Cloud dysmsapi) or "
    "`TENCENT` (Tencent Cloud SMS, API 3.0)."
)
class SmsProvider(enum.Enum):
    """The SMS provider a tenant sends through."""

    ALIYUN = strawberry.enum_value("aliyun", description="Alibaba Cloud SMS (dysmsapi).")
    TENCENT = strawberry.enum_value("tencent", description="Tencent Cloud SMS (API 3.0).")


@strawberry.type(
    description="The tenant's SMS provider account; the secret is never returned, only that it "
    "is set. Readable by admin keys only."
)
class SmsSettings:
    """The tenant's SMS provider account (public view)."""

    provider: SmsProvider = strawberry.field(description="The provider messages go through.")
    access_key_id: str = strawberry.field(
        description="Alibaba Cloud AccessKey ID / Tencent Cloud SecretId."
    )
    sign_name: str = strawberry.field(description="The approved sign name (签名).")
    sdk_app_id: str | None = strawberry.field(
        description="Tencent Cloud's SmsSdkAppId; null for Alibaba Cloud."
    )
    region: str = strawberry.field(description="The region sent to the provider.")
    base_url: str = strawberry.field(description="The provider API root requests go to.")
    secret_set: bool = strawberry.field(description="Whether the secret is stored (always true).")
    callback_path: str = strawberry.field(
        description="Append to the API's public origin to get the URL to give the provider for "
        "delivery reports and replies. It is the callback's only credential: keep it private."
    )

    @classmethod
    def of(cls, settings: SmsSettingsModel) -> SmsSettings:
        return cls(
            provider=SmsProvider(settings.provider),
            access_key_id=settings.access_key_id,
            sign_name=settings.sign_name,
            sdk_app_id=settings.sdk_app_id,
            region=settings.effective_region,
            base_url=settings.base_url,
            secret_set=bool(settings.secret.get_secret_value()),
            callback_path=sms_callback_path(settings),
        )


@strawberry.type(description="The tenant's SMS settings were cleared (or there were none).")
class SmsSettingsCleared:
    """The tenant's SMS settings were cleared."""

    cleared: bool = strawberry.field(description="Whether there were settings to clear.")
