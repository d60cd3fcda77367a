"""`webhook.post`'s params: where a delivery may go and which headers a journey may set."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from pydantic_core import PydanticCustomError

from connectors.netguard import DestinationGuard
from connectors.webhook.signing import IDEMPOTENCY_HEADER

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
# Headers the connector sets itself, credentials and cookies (receivers authenticate deliveries
# by the signature, never by a journey's header), and hop-by-hop or framing headers that would
# let a journey confuse the transport or a proxy in front of the receiver.
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "set-cookie",
        "content-type",
        "content-length",
        "content-encoding",
        "accept-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "http2-settings",
        "host",
        IDEMPOTENCY_HEADER.lower(),
    }
)
_RESERVED_PREFIXES = ("x-omnijourney-", "proxy-")


class PostParams(BaseModel):
    """Params of `webhook.post`.

    Each `WebhookConnector` validates with a subclass bound to its `DestinationGuard`, so journey
    validation (which uses the connector's catalog) applies the deployment's allow-list.
    """

    model_config = ConfigDict(extra="forbid")

    guard: ClassVar[DestinationGuard] = DestinationGuard()

    url: HttpUrl = Field(
        description="http or https URL receiving the signed POST; it must reach a public address "
        "(or one the deployment allows), not a single-label host."
    )
    payload: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="Extra request headers; may not replace the connector's own, Authorization, "
        "cookies or hop-by-hop headers.",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="Deadline of one attempt, connect to last byte."
    )

    @field_validator("url")
    @classmethod
    def _allowed_destination(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password:
            # httpx would turn them into an Authorization header, which journeys may not set.
            raise ValueError("the URL must not carry credentials (user:password@)")
        reason = cls.guard.literal_refusal(url.host or "")
        if reason is not None:
            raise PydanticCustomError(
                "destination_not_allowed",
                "destination not allowed: {host} is {reason}; webhooks go to public addresses "
                "or to ones the deployment allows",
                {"host": url.host or "", "reason": reason},
            )
        return url

    @field_validator("headers")
    @classmethod
    def _no_reserved_or_malformed_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            lowered = name.lower()
            if not _TOKEN.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if lowered in _RESERVED_HEADERS or lowered.startswith(_RESERVED_PREFIXES):
                raise PydanticCustomError(
                    "reserved_header",
                    "header {name} is reserved (set by the connector, a credential, a cookie or "
                    "hop-by-hop) and cannot be given",
                    {"name": repr(name)},
                )
            if len(value) > 1024 or not _HEADER_VALUE.match(value):
                raise ValueError(
                    f"header {name!r} must be printable ASCII of at most 1024 characters"
                )
        return headers


def bound_params(guard: DestinationGuard) -> type[PostParams]:
    """`PostParams` checking destinations against `guard` (same name, fields and schema)."""
    namespace = {"__module__": __name__, "__qualname__": PostParams.__qualname__, "guard": guard}
    return type(PostParams.__name__, (PostParams,), namespace)
