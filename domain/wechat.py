"""WeChat Official Accounts (`oa`) and mini-programs (`miniprogram`): a tenant's app settings.

Each tenant connects at most one app of each kind. Both kinds call the same API
(`https://api.weixin.qq.com/cgi-bin/`) with an access token from `cgi-bin/stable_token` (appid +
appsecret), and both push events to a message push URL of ours, `/v1/callbacks/{kind}/{callback_id}`,
signed with the callback Token and, in safe mode, encrypted with the EncodingAESKey (the appid is
the receive id). The settings are stored in `store.channel_settings` under the kind, with the
callback id as their lookup key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from domain.channels import CALLBACK_ID_PATTERN, aes_key_shape, http_root, not_blank

OA = "oa"
MINIPROGRAM = "miniprogram"
WeChatAppKind = Literal["oa", "miniprogram"]
APP_KINDS: tuple[WeChatAppKind, ...] = ("oa", "miniprogram")

DEFAULT_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
APPID_PATTERN = r"^wx[0-9a-zA-Z]{1,30}$"
MAX_TEMPLATE_VALUE_LENGTH = 200
"""Longest value of one template data key we send (WeChat caps each key type shorter still:
`thing` 20 characters, `number` 32, ...; it answers 47003 when one is over)."""


class WeChatAppSettings(BaseModel):
    """One tenant's Official Account or mini-program: who it is, its secrets, its API root."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    appid: str = Field(pattern=APPID_PATTERN, description="The app's AppID (`wx…`).")
    appsecret: SecretStr = Field(description="The AppSecret used to obtain access tokens.")
    callback_token: SecretStr = Field(description="The message push Token signing callbacks.")
    encoding_aes_key: SecretStr = Field(description="The 43-character EncodingAESKey.")
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="The API root, ending in `/cgi-bin/`; a simulator's address in tests.",
    )
    callback_id: str = Field(
        pattern=CALLBACK_ID_PATTERN,
        description="Random, URL-safe: the public part of `/v1/callbacks/{kind}/{callback_id}`.",
    )

    @field_validator("appsecret", "callback_token")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        return not_blank(value)

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key_shape(cls, value: SecretStr) -> SecretStr:
        return aes_key_shape(value)

    @field_validator("base_url")
    @classmethod
    def _http_root(cls, value: str) -> str:
        return http_root(value)

    def public(self) -> dict[str, Any]:
        """Everything but the secrets, which show as `"set"`: what the API may return."""
        return {
            "appid": self.appid,
            "base_url": self.base_url,
            "callback_id": self.callback_id,
            "appsecret": "set",
            "callback_token": "set",
            "encoding_aes_key": "set",
        }
