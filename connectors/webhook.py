"""The `webhook` channel: POST a signed JSON document to a URL the journey names.

Action `post` (params: `url`, `payload`, `headers`, `timeout_seconds`) sends one request:

    POST <url>
    Content-Type: application/json
    Accept-Encoding: identity                   -- compressed answers are not decoded
    Idempotency-Key: <key>                      -- the same for every retry of one node visit;
                                                   percent-encoded (UTF-8) if it has spaces,
                                                   `%` or non-ASCII characters
    X-Omnijourney-Timestamp: <unix seconds>
    X-Omnijourney-Signature: sha256=<hex>

    {"idempotency_key": ..., "tenant_id": ..., "enrollment_id": ..., "node_id": ...,
     "customer": {"customer_id": ..., "identities": {...}, "attributes": {...}},
     "trigger": {"id": ..., "type": ..., "properties": {...}} | null,  # the last matched event
     "payload": <the node's payload>}

Signing: each tenant has its own secret (`SigningSecrets`, asked at send time). The signature
header lists one `sha256=<hex>` per secret that signs, comma-separated, the current secret's
first: `sha256=<new>,sha256=<old>` while a rotation's overlap window lasts (the replaced secret
keeps signing until it ends), only `sha256=<new>` after it.

Verifying a delivery (receivers): take the raw request body bytes exactly as received, compute
HMAC-SHA256 with your copy of the tenant's secret over `<timestamp>.<body>` (the timestamp
header's ASCII, one dot, then the body bytes), and accept the delivery when its lowercase hex
digest equals, in constant time, ANY of the signatures listed after `sha256=` (ignore other
schemes). So a receiver switches to the new secret whenever it likes within the window. Reject
timestamps more than a few minutes from your clock to stop replays, and de-duplicate on
`Idempotency-Key`: a retry re-sends the same body with a fresh timestamp and signature.
`verify_signature` (`domain.webhooks`, re-exported here) does all but the de-duplication.

Answers: 2xx succeed (a JSON `id` in an uncompressed response of at most 64 KiB becomes the
outcome's `external_id`; reading stops at 64 KiB, and other answers' bodies are not read); 408,
429 and 5xx are transient (429 and 503 honour `Retry-After`); redirects are not followed (the
signed body goes only where the journey says) and, like other 4xx, are permanent; network errors
and timeouts are transient.
`timeout_seconds` bounds the whole attempt (resolving, connecting, sending, reading), not each
step, so a receiver that trickles bytes cannot hold a worker slot.

Destinations (`connectors.netguard`): the URL must reach a public address, or one the
deployment's allow-list names; journey validation refuses a literal address or a single-label
host, and every connection is checked again on the addresses the host resolves to. A refusal is
permanent (`code="destination_not_allowed"`) and its message names the host only. Journeys may
not set the connector's own headers, credentials, cookies or hop-by-hop headers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

import httpx
import pydantic_core
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from connectors.base import ActionOutcome, ActionRequest, ActionSpec, action_spec, parse_params
from connectors.errors import InvalidActionParamsError, PermanentChannelError, TransientChannelError
from connectors.netguard import DestinationGuard, DestinationNotAllowedError, GuardedTransport
from domain.webhooks import sign, verify_signature

CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Omnijourney-Signature"
TIMESTAMP_HEADER = "X-Omnijourney-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
__all__ = ["WebhookConnector", "sign", "verify_signature"]

logger = logging.getLogger(__name__)

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
_MAX_RESPONSE_BYTES = 64 * 1024
_HEADER_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "%")


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


class SigningSecrets(Protocol):
    """Where the connector gets a tenant's signing secrets at send time (a port)."""

    async def signing_secrets(self, tenant_id: str, now: datetime) -> Sequence[SecretStr]:
        """The secrets that sign `tenant_id`'s delivery sent at `now`, current first; at
        least one."""
        ...


class FixedSigningSecrets:
    """The same secrets for every tenant (tools and tests)."""

    def __init__(self, *secrets: SecretStr) -> None:
        self._secrets = list(secrets)

    async def signing_secrets(self, tenant_id: str, now: datetime) -> Sequence[SecretStr]:
        """The given secrets, whatever the tenant and time."""
        return self._secrets


def _retry_after(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


async def _read_capped(response: httpx.Response) -> bytes | None:
    """The raw body if it is at most `_MAX_RESPONSE_BYTES`, else None; stops reading at the cap
    (closing the response then drops the connection instead of draining the rest)."""
    content = bytearray()
    async for chunk in response.aiter_raw():
        content += chunk
        if len(content) > _MAX_RESPONSE_BYTES:
            return None
    return bytes(content)


def _external_id(response: httpx.Response, content: bytes | None) -> str | None:
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if not content or encoding != "identity":
        return None
    try:
        document = json.loads(content)
    except ValueError:
        return None
    if isinstance(document, dict):
        found = document.get("id")
        if isinstance(found, str | int) and not isinstance(found, bool):
            return str(found)
    return None


def _refused_destination(exc: InvalidActionParamsError) -> str | None:
    """The host of the `destination_not_allowed` params error behind `exc`, if it has one."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        for error in cause.errors(include_url=False, include_input=False):
            if error["type"] == "destination_not_allowed":
                return str((error.get("ctx") or {}).get("host", "?"))
    return None


def _bound_params(guard: DestinationGuard) -> type[PostParams]:
    """`PostParams` checking destinations against `guard` (same name, fields and schema)."""
    namespace = {"__module__": __name__, "__qualname__": PostParams.__qualname__, "guard": guard}
    return type(PostParams.__name__, (PostParams,), namespace)


class WebhookConnector:
    """The `webhook` channel. It owns its HTTP client, whose connections go through `guard`
    (default: public addresses only); close it with `aclose` or `async with`."""

    name = CHANNEL

    def __init__(
        self,
        secrets: SigningSecrets,
        guard: DestinationGuard | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.guard = guard or DestinationGuard()
        self._params = _bound_params(self.guard)
        self.actions: Mapping[str, ActionSpec] = {
            "post": ActionSpec(
                "post", self._params, "POST a signed JSON document about the customer to a URL."
            ),
        }
        # No cookies kept, no environment proxies or .netrc: each delivery stands alone.
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(self.guard), trust_env=False, follow_redirects=False
        )
        self._secrets = secrets
        self._clock = clock

    async def aclose(self) -> None:
        """Close the connections this connector holds."""
        await self._client.aclose()

    async def __aenter__(self) -> WebhookConnector:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate the params, then POST once; translate the answer into an outcome or error."""
        spec = action_spec(self.name, self.actions, request.action)
        try:
            params = parse_params(self.name, spec.name, self._params, request.params)
        except InvalidActionParamsError as exc:
            refused = _refused_destination(exc)
            if refused is None:
                raise
            raise PermanentChannelError(
                f"webhook to {refused}: destination not allowed", code="destination_not_allowed"
            ) from exc
        # `fallback=str`: profile attributes may hold store types (dates, ids) JSON cannot name.
        body = pydantic_core.to_json(
            {
                "idempotency_key": request.idempotency_key,
                "tenant_id": request.tenant_id,
                "enrollment_id": request.enrollment_id,
                "node_id": request.node_id,
                "customer": request.customer,
                "trigger": request.trigger,
                "payload": params.payload,
            },
            fallback=str,
        )
        now = self._clock()
        timestamp = str(int(now))
        headers = {
            **params.headers,
            "Content-Type": "application/json",
            # Compressed answers are not decoded: a small gzip body can inflate without bound.
            "Accept-Encoding": "identity",
            IDEMPOTENCY_HEADER: quote(request.idempotency_key, safe=_HEADER_SAFE),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: await self._signature(request.tenant_id, now, timestamp, body),
        }
        host = params.url.host or "?"
        content: bytes | None = None
        try:
            # One deadline for the whole attempt; httpx's own timeouts apply per step only.
            async with asyncio.timeout(params.timeout_seconds):
                async with self._client.stream(
                    "POST",
                    str(params.url),
                    content=body,
                    headers=headers,
                    timeout=params.timeout_seconds,
                ) as response:
                    if 200 <= response.status_code < 300:
                        content = await _read_capped(response)
        except DestinationNotAllowedError as exc:
            logger.warning("webhook to %s refused: %s", host, exc.detail)
            raise PermanentChannelError(
                f"webhook to {host}: destination not allowed", code="destination_not_allowed"
            ) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise TransientChannelError(
                f"webhook to {host} timed out after {params.timeout_seconds:g} s"
            ) from exc
        except httpx.TransportError as exc:
            # The exception text may name the address connected to; it goes to the log only.
            logger.warning("webhook to %s failed: %s: %s", host, type(exc).__name__, exc)
            raise TransientChannelError(f"webhook to {host} failed: {type(exc).__name__}") from exc
        return self._outcome(response, content, host, now)

    async def _signature(self, tenant_id: str, now: float, timestamp: str, body: bytes) -> str:
        secrets = await self._secrets.signing_secrets(tenant_id, datetime.fromtimestamp(now, UTC))
        if not secrets:
            raise PermanentChannelError("no webhook signing secret", code="no_signing_secret")
        return ",".join(sign(secret, timestamp, body) for secret in secrets)

    def _outcome(
        self, response: httpx.Response, content: bytes | None, host: str, now: float
    ) -> ActionOutcome:
        status = response.status_code
        logger.debug("webhook to %s answered %s", host, status)
        if 200 <= status < 300:
            return ActionOutcome(
                external_id=_external_id(response, content), detail={"status_code": status}
            )
        if status in (408, 429) or status >= 500:
            raise TransientChannelError(
                f"webhook to {host} answered {status}", retry_after=_retry_after(response, now)
            )
        reason = "a redirect, which is not followed" if 300 <= status < 400 else "a client error"
        raise PermanentChannelError(
            f"webhook to {host} answered {status} ({reason})", code=f"http_{status}"
        )
