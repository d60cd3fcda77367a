"""The `sms` channel's tenant settings, event types and the reply words that opt a customer out.

A tenant sends SMS through one provider, Alibaba Cloud (`aliyun`, dysmsapi) or Tencent Cloud
(`tencent`, API 3.0), with its own credentials, approved sign name and (Tencent) SmsSdkAppId.
The settings are stored in `channel_settings` under kind `sms`, the secret sealed; `callback_id`
is the secret part of the tenant's callback URL (neither provider signs its pushes).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

SETTINGS_KIND = "sms"
SmsProvider = Literal["aliyun", "tencent"]
PROVIDERS: tuple[SmsProvider, ...] = ("aliyun", "tencent")

DEFAULT_BASE_URLS: dict[SmsProvider, str] = {
    "aliyun": "https://dysmsapi.aliyuncs.com/",
    "tencent": "https://sms.tencentcloudapi.com/",
}
"""Each provider's own API root; any other root must be allowed by the server."""

SMS_DELIVERED = "sms.delivered"
SMS_FAILED = "sms.failed"
SMS_REPLIED = "sms.replied"
SMS_EVENT_TYPES = (SMS_DELIVERED, SMS_FAILED, SMS_REPLIED)

CONSENT_CHANNEL = "sms"
OPT_OUT_WORDS = frozenset({"T", "TD", "退订"})
"""Replies that unsubscribe (compared without case or white space)."""

_SPACE = re.compile(r"\s+")


def is_opt_out(text: str) -> bool:
    """Whether a reply's text is an unsubscribe word (`T`, `TD`, `退订`; case and white space
    ignored, full-width letters too)."""
    folded = _SPACE.sub("", unicodedata.normalize("NFKC", text)).upper()
    return folded in OPT_OUT_WORDS


def root_url(url: str) -> str:
    """`url` with exactly one trailing `/`."""
    return url.rstrip("/") + "/"


class SmsSettings(BaseModel):
    """A tenant's SMS provider account; `secret` is write-only (AccessKey Secret / SecretKey)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: SmsProvider
    access_key_id: str = Field(
        min_length=1, max_length=128, description="Aliyun AccessKey ID / Tencent SecretId."
    )
    secret: SecretStr = Field(description="Aliyun AccessKey Secret / Tencent SecretKey.")
    sign_name: str = Field(min_length=1, max_length=64, description="The approved sign name.")
    sdk_app_id: str | None = Field(
        default=None, min_length=1, max_length=32, description="Tencent's SmsSdkAppId."
    )
    region: str = Field(default="", max_length=32, description="Region; default per provider.")
    base_url: str = Field(min_length=1, max_length=512, description="The provider's API root.")
    callback_id: str = Field(min_length=16, max_length=128)

    @field_validator("base_url")
    @classmethod
    def _http_root(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return root_url(value)

    @model_validator(mode="after")
    def _tencent_app(self) -> SmsSettings:
        if self.provider == "tencent" and self.sdk_app_id is None:
            raise ValueError("sdk_app_id (SmsSdkAppId) is required for Tencent Cloud")
        if self.provider == "aliyun" and self.sdk_app_id is not None:
            raise ValueError("sdk_app_id applies to Tencent Cloud only")
        return self

    @property
    def effective_region(self) -> str:
        """The region sent to the provider."""
        return self.region or ("cn-hangzhou" if self.provider == "aliyun" else "ap-guangzhou")


class SentSms(BaseModel):
    """One SMS the provider accepted: what its delivery report is reconciled against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=1)
    provider: SmsProvider
    message_id: str = Field(min_length=1, description="Aliyun BizId / Tencent SerialNo.")
    reference: str = Field(min_length=1, description="Our OutId / SessionContext.")
    idempotency_key: str = Field(min_length=1)
    phone: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)
    enrollment_id: str = Field(min_length=1)
    node_id: str = Field(min_length=1)
    template: str = Field(min_length=1)
    sent_at: datetime
