"""Customers and the identities by which channels know them.

A customer is one person across channels. Each channel knows them by an identity of some kind;
the well-known kinds are:

| kind                     | what it is                                            |
|--------------------------|-------------------------------------------------------|
| `wecom_external_userid`  | WeCom external contact id (per corp)                  |
| `unionid`                | WeChat UnionID (same person across the brand's apps)  |
| `openid`                 | WeChat OpenID (per official account / mini-program)   |
| `wechat_openid`          | OpenID for the tenant's WeChat Official Account       |
| `miniprogram_openid`     | OpenID for the tenant's WeChat mini-program           |
| `phone`                  | mobile number; ASCII digits only (full-width ones too), `+86`/`86` dropped |
| `email`                  | e-mail address, lower-cased                           |
| `external_id`            | the brand's own id (CRM, member number)               |
| `douyin_openid`          | Douyin OpenID                                         |
| `taobao_nick`            | Taobao buyer nickname                                 |

Other kinds are allowed (lowercase, `[a-z][a-z0-9_]*`). One identity belongs to at most one
customer per tenant; when an event shows two customers are the same person they are merged into
the older one, and the younger records `merged_into`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

IdentityKind = str
"""An identity kind: one of the well-known kinds in this module's docstring, or another
lowercase name."""

EXTERNAL_USERID = "wecom_external_userid"
"""The identity kind of a WeCom external contact."""
UNIONID = "unionid"
"""The identity kind of a WeChat UnionID (one person across a brand's OA and mini-program)."""
OPENID = "openid"
WECHAT_OPENID = "wechat_openid"
"""The identity kind of an OpenID under the tenant's Official Account (`oa` channel)."""
MINIPROGRAM_OPENID = "miniprogram_openid"
"""The identity kind of an OpenID under the tenant's mini-program (`miniprogram` channel)."""
PHONE = "phone"
EMAIL = "email"
EXTERNAL_ID = "external_id"
DOUYIN_OPENID = "douyin_openid"
TAOBAO_NICK = "taobao_nick"

WELL_KNOWN_IDENTITY_KINDS: tuple[str, ...] = (
    EXTERNAL_USERID,
    UNIONID,
    OPENID,
    WECHAT_OPENID,
    MINIPROGRAM_OPENID,
    PHONE,
    EMAIL,
    EXTERNAL_ID,
    DOUYIN_OPENID,
    TAOBAO_NICK,
)

IDENTITY_KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
MAX_IDENTITY_VALUE_LENGTH = 256
_KIND_RE = re.compile(IDENTITY_KIND_PATTERN)
_CHINA_MOBILE_WITH_COUNTRY_CODE = re.compile(r"^86(1\d{10})$")


def normalize_identity(kind: str, value: str) -> str:
    """The canonical form of an identity value; ValueError when it cannot be one.

    Phones keep their digits only, as ASCII (full-width digits and other scripts'
    digits name the same phone as ASCII ones), and a mainland mobile written with the `86` country code
    loses it (`+86 138-0013-8000` → `13800138000`); e-mails are lower-cased; every value is
    stripped of surrounding white space.
    """
    if not _KIND_RE.match(kind):
        raise ValueError(f"identity kind {kind!r} must match {IDENTITY_KIND_PATTERN}")
    cleaned = value.strip()
    if kind == PHONE:
        cleaned = _phone_digits(cleaned)
        match = _CHINA_MOBILE_WITH_COUNTRY_CODE.match(cleaned)
        if match:
            cleaned = match.group(1)
        if not cleaned:
            raise ValueError("a phone number needs digits")
    elif kind == EMAIL:
        cleaned = cleaned.lower()
        if "@" not in cleaned:
            raise ValueError("an e-mail address needs an @")
    if not cleaned:
        raise ValueError("an identity value cannot be empty")
    if len(cleaned) > MAX_IDENTITY_VALUE_LENGTH:
        raise ValueError(f"an identity value is at most {MAX_IDENTITY_VALUE_LENGTH} characters")
    return cleaned


def _phone_digits(value: str) -> str:
    """The ASCII digits a phone is written with: full-width digits become ASCII by NFKC,
    other decimal digits (Arabic-Indic, Devanagari...) by their value; the rest is dropped."""
    digits = (unicodedata.decimal(ch, None) for ch in unicodedata.normalize("NFKC", value))
    return "".join(str(digit) for digit in digits if digit is not None)


class Identity(BaseModel):
    """One way a channel knows a customer; the value is normalized on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: IdentityKind = Field(pattern=IDENTITY_KIND_PATTERN)
    value: str

    @field_validator("value")
    @classmethod
    def _normalize(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is None:  # the kind itself is invalid and reported on its own
            return value
        return normalize_identity(kind, value)


def identities_from_mapping(identity: dict[str, str]) -> list[Identity]:
    """`{"phone": "138…", "unionid": "o…"}` as identities, in a stable (kind) order."""
    return [Identity(kind=kind, value=value) for kind, value in sorted(identity.items())]


ConsentStatus = Literal["opted_in", "opted_out"]
"""Whether the customer agreed (`opted_in`) or refused / withdrew (`opted_out`)."""

CONSENT_SOURCE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
CONSENT_SOURCES: tuple[str, ...] = (
    "api",
    "sms_reply",
    "email_unsubscribe",
    "oa_unfollow",
    "import",
)
"""Well-known sources of a consent change: set through the API, an SMS reply (退订 / STOP), an
e-mail unsubscribe link, the customer unfollowing the Official Account, a bulk import. Other
lowercase names are allowed."""
UNKNOWN_CONSENT_SOURCE = "unknown"
"""The source of a consent recorded before sources were (a bare yes/no)."""


class ChannelConsent(BaseModel):
    """The customer's consent on one channel: the status, what recorded it, and when.

    Stored under the customer's `consent.<channel>`. A document written before consent had
    records holds a bare boolean there; it reads as `opted_in` / `opted_out` with source
    `unknown` and no time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: ConsentStatus
    source: str = Field(default=UNKNOWN_CONSENT_SOURCE, pattern=CONSENT_SOURCE_PATTERN)
    at: AwareDatetime | None = Field(default=None, description="When it was recorded.")

    @property
    def granted(self) -> bool:
        """Whether the customer may be reached on the channel."""
        return self.status == "opted_in"

    @classmethod
    def of(cls, granted: bool, source: str, at: datetime | None) -> ChannelConsent:
        """The record of a yes (`granted`) or a no."""
        return cls(status="opted_in" if granted else "opted_out", source=source, at=at)


class Customer(BaseModel):
    """One person across channels, with the profile journeys read and write."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tenant_id: str
    identities: list[Identity] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    consent: dict[str, ChannelConsent] = Field(
        default_factory=dict,
        description="Per channel (the channel name: `sms`, `email`, `oa`, `miniprogram`, "
        "`wecom`...): whether the customer agreed to be reached, how and when; channels never "
        "asked are absent.",
    )
    first_touch_hook: str | None = Field(
        default=None, description="The hook (channel code `state`) that first brought them in."
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime
    merged_into: str | None = Field(
        default=None, description="Set when this record was merged into another customer."
    )

    @field_validator("consent", mode="before")
    @classmethod
    def _consent_records(cls, value: Any) -> Any:
        # Documents written before consent had records hold `channel: bool`.
        if not isinstance(value, dict):
            return value
        return {
            channel: {"status": "opted_in" if record else "opted_out"}
            if isinstance(record, bool)
            else record
            for channel, record in value.items()
        }

    def opted_out(self, channel: str) -> ChannelConsent | None:
        """The customer's refusal of `channel`, or None when they did not refuse it (opted in,
        or never asked)."""
        record = self.consent.get(channel)
        return record if record is not None and not record.granted else None

    def identity(self, kind: str) -> str | None:
        """The value of the first identity of this kind, or None."""
        for identity in self.identities:
            if identity.kind == kind:
                return identity.value
        return None

    @property
    def identity_kinds(self) -> frozenset[str]:
        """Kinds of identity this customer has."""
        return frozenset(identity.kind for identity in self.identities)
