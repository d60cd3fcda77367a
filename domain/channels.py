"""Channel accounts: a tenant's WeCom credentials, codes provisioned on WeCom, and allowances.

A tenant connects one WeCom corp. Its credentials hold three secrets (the app secret that buys
access tokens, and the callback token and EncodingAESKey that sign and encrypt callbacks); they
are `SecretStr` so that `repr`, logs and error messages show `**********`, and `public()` is the
only view the API may return.

WeCom limits how many mass messages (客户群发) one customer receives: as many per month as the
month has days, or (set by the corp's admin) 7 per week or 1 per day. `allowance_for` names the
period a send falls in and its cap; periods are counted in China Standard Time, WeCom's clock.
"""

from __future__ import annotations

import calendar
import re
import secrets
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from domain.errors import InvalidInputError

MassMessageLimit = Literal["per_month", "per_week_7", "per_day_1"]
"""The corp's mass-message cap per customer: days-in-month per month, 7 per week, 1 per day."""

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
WECOM_TIMEZONE = ZoneInfo("Asia/Shanghai")

MAX_STATE_LENGTH = 30
MAX_JOIN_WAY_CHATS = 5
MAX_ROOM_BASE_NAME_LENGTH = 40
WELCOME_CODE_TTL_SECONDS = 20.0
MAX_TRANSFERS_PER_WINDOW = 2
TRANSFER_WINDOW_DAYS = 90

CALLBACK_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_STATE_RE = re.compile(r"^[\x21-\x7e]+$")


def new_callback_id() -> str:
    """A fresh random, URL-safe callback id (the public part of a tenant's callback URL)."""
    return secrets.token_urlsafe(24)


def not_blank(value: SecretStr) -> SecretStr:
    """A secret that is not empty or blank (a validator's body, shared by the app settings)."""
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty")
    return value


def aes_key_shape(value: SecretStr) -> SecretStr:
    """A 43-character base64 EncodingAESKey; the message names the rule only (it is a secret)."""
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}", value.get_secret_value()):
        raise ValueError("must be 43 characters of base64 (A-Z, a-z, 0-9, + and /)")
    return value


def http_root(value: str) -> str:
    """An http(s) API root without query or fragment, ending in `/`."""
    if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", value):
        raise ValueError("must be an http(s) URL without query or fragment")
    return value if value.endswith("/") else value + "/"


class WeComCredentials(BaseModel):
    """One tenant's WeCom corp: who it is, its secrets, where its API lives, its limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field(min_length=1)
    corp_id: str = Field(min_length=1, max_length=64, description="The CorpID (`ww…`).")
    agent_id: str | None = Field(default=None, max_length=64, description="The app's AgentId.")
    secret: SecretStr = Field(description="The app secret used to obtain access tokens.")
    callback_token: SecretStr = Field(description="The callback Token signing callbacks.")
    encoding_aes_key: SecretStr = Field(description="The 43-character callback EncodingAESKey.")
    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="The API root, ending in `/cgi-bin/`; a simulator's address in tests.",
    )
    callback_id: str = Field(
        pattern=CALLBACK_ID_PATTERN,
        description="Random, URL-safe: the public part of `/v1/callbacks/wecom/{callback_id}`.",
    )
    mass_message_limit: MassMessageLimit = "per_month"

    @field_validator("secret", "callback_token")
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
            "tenant_id": self.tenant_id,
            "corp_id": self.corp_id,
            "agent_id": self.agent_id,
            "secret": "set",
            "callback_token": "set",
            "encoding_aes_key": "set",
            "base_url": self.base_url,
            "callback_id": self.callback_id,
            "mass_message_limit": self.mass_message_limit,
        }


class ProvisionedCode(BaseModel):
    """A code made on WeCom: a contact way (渠道活码) or a group join way (群活码)."""

    model_config = ConfigDict(frozen=True)

    config_id: str = Field(min_length=1, description="WeCom's id for the configuration.")
    qr_code: str = Field(description="URL of the QR code image customers scan.")


def check_state(state: str, path: str = "state") -> str:
    """`state` if WeCom accepts it (1-30 printable ASCII characters), else `InvalidInputError`."""
    if not state or len(state) > MAX_STATE_LENGTH:
        raise InvalidInputError.single(path, f"must be 1 to {MAX_STATE_LENGTH} characters")
    if not _STATE_RE.match(state):
        raise InvalidInputError.single(path, "must be printable ASCII without spaces")
    return state


def check_join_way(chat_ids: list[str], room_base_name: str | None) -> None:
    """`InvalidInputError` unless a join way names 1-5 groups and a room base name of ≤ 40 chars."""
    if not 1 <= len(chat_ids) <= MAX_JOIN_WAY_CHATS:
        raise InvalidInputError.single("chat_ids", f"must list 1 to {MAX_JOIN_WAY_CHATS} groups")
    if any(not chat_id for chat_id in chat_ids):
        raise InvalidInputError.single("chat_ids", "must not contain empty ids")
    if room_base_name is not None and not 1 <= len(room_base_name) <= MAX_ROOM_BASE_NAME_LENGTH:
        raise InvalidInputError.single(
            "room_base_name", f"must be 1 to {MAX_ROOM_BASE_NAME_LENGTH} characters"
        )


def allowance_for(limit: MassMessageLimit, when: datetime) -> tuple[str, int]:
    """The allowance period `when` falls in and how many mass messages it allows.

    `per_month` → (`"2026-11"`, days in that month); `per_week_7` → (`"2026-W47"`, 7), ISO weeks;
    `per_day_1` → (`"2026-11-15"`, 1). `when` must be aware; periods follow China Standard Time.
    """
    if when.tzinfo is None:
        raise ValueError("when must carry a time zone")
    local = when.astimezone(WECOM_TIMEZONE)
    if limit == "per_month":
        return f"{local.year:04d}-{local.month:02d}", calendar.monthrange(local.year, local.month)[
            1
        ]
    if limit == "per_week_7":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}", 7
    return local.date().isoformat(), 1
