"""Per-tenant settings of the sources (`store.channel_settings`, one kind each).

Each source is found by the callback id in its URL (the settings' `lookup`), made when the
source is configured; the secrets are `SecretStr` (sealed at rest, never shown).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

DOUYIN_KIND = "lead.douyin"
XIAOHONGSHU_KIND = "lead.xiaohongshu"
ORDERS_KIND = "orders"
YOUZAN_KIND = "orders.youzan"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    callback_id: str = Field(min_length=1, max_length=64)


class DouyinLeadSettings(_Settings):
    """Douyin lead push: the app's client secret signs each push (`X-Douyin-Signature`)."""

    client_key: str | None = Field(default=None, max_length=64)
    client_secret: SecretStr


class XiaohongshuLeadSettings(_Settings):
    """Xiaohongshu lead push: the landing page's push token signs each push (`X-Red-Signature`)."""

    token: SecretStr


class OrderWebhookSettings(_Settings):
    """The order webhook: the tenant's secret signs each message (`X-Omnijourney-Signature`);
    after a rotation the one it replaced is still accepted until `previous_valid_until`."""

    secret: SecretStr
    previous_secret: SecretStr | None = None
    previous_valid_until: AwareDatetime | None = None


class YouzanSettings(_Settings):
    """Youzan push: the app's `client_id` and `client_secret` sign each message (`sign`)."""

    client_id: str = Field(min_length=1, max_length=64)
    client_secret: SecretStr
