"""The `webhook` channel: POST a signed JSON document to a URL the journey names.

Action `post` (params: `url`, `payload`, `headers`, `timeout_seconds`) sends one request:

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <key>                      -- the same for every retry of one node visit;
                                                   percent-encoded (UTF-8) if it has spaces,
                                                   `%` or non-ASCII characters
    X-Omnijourney-Timestamp: <unix seconds>
    X-Omnijourney-Signature: sha256=<hex>

    {"idempotency_key": ..., "tenant_id": ..., "enrollment_id": ..., "node_id": ...,
     "customer": {"customer_id": ..., "identities": {...}, "attributes": {...}},
     "trigger": {"id": ..., "type": ..., "properties": {...}} | null,  # the last matched event
     "payload": <the node's payload>}

Verifying a delivery (receivers): take the raw request body bytes exactly as received, compute
HMAC-SHA256 with the shared secret over `<timestamp>.<body>` (the timestamp header's ASCII, one
dot, then the body bytes), and compare its lowercase hex digest with the signature after
`sha256=` in constant time. Reject timestamps more than a few minutes from your clock to stop
replays, and de-duplicate on `Idempotency-Key`: a retry re-sends the same body with a fresh
timestamp and signature. `verify_signature` below does all but the de-duplication.

Answers: 2xx succeed (a JSON `id` in the response becomes the outcome's `external_id`); 408,
429 and 5xx are transient (429 and 503 honour `Retry-After`); redirects are not followed (the
signed body goes only where the journey says) and, like other 4xx, are permanent; network errors
and timeouts are transient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from connectors.base import ActionOutcome, ActionRequest, ActionSpec, action_spec, parse_params
from connectors.errors import PermanentChannelError, TransientChannelError

CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Omnijourney-Signature"
TIMESTAMP_HEADER = "X-Omnijourney-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
# Headers the connector sets itself, or that would let a journey impersonate or confuse the
# transport; receivers authenticate deliveries by the signature, never by a journey's header.
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "host",
        IDEMPOTENCY_HEADER.lower(),
    }
)
_MAX_ID_BYTES = 64 * 1024
_HEADER_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "%")


class PostParams(BaseModel):
    """Params of `webhook.post`."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(description="http or https URL receiving the signed POST.")
    payload: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="Extra request headers; may not replace the connector's own or Authorization.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("headers")
    @classmethod
    def _no_reserved_or_malformed_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            lowered = name.lower()
            if not _TOKEN.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if lowered in _RESERVED_HEADERS or lowered.startswith("x-omnijourney-"):
                raise ValueError(f"header {name!r} is set by the connector and cannot be given")
            if len(value) > 1024 or not _HEADER_VALUE.match(value):
                raise ValueError(
                    f"header {name!r} must be printable ASCII of at most 1024 characters"
                )
        return headers


def sign(secret: SecretStr | str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`: `sha256=<hex>`."""
    key = (secret.get_secret_value() if isinstance(secret, SecretStr) else secret).encode()
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: SecretStr | str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether `signature` signs `body` at `timestamp` and the timestamp is within `tolerance`
    seconds of `now` (default: the current time). For receivers of webhook deliveries."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


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


def _external_id(response: httpx.Response) -> str | None:
    if not response.content or len(response.content) > _MAX_ID_BYTES:
        return None
    try:
        document = json.loads(response.content)
    except ValueError:
        return None
    if isinstance(document, dict):
        found = document.get("id")
        if isinstance(found, str | int) and not isinstance(found, bool):
            return str(found)
    return None


class WebhookConnector:
    """The `webhook` channel, posting through a shared `httpx.AsyncClient` it does not own."""

    name = CHANNEL
    actions: Mapping[str, ActionSpec] = {
        "post": ActionSpec(
            "post", PostParams, "POST a signed JSON document about the customer to a URL."
        ),
    }

    def __init__(
        self,
        client: httpx.AsyncClient,
        secret: SecretStr,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._secret = secret
        self._clock = clock

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate the params, then POST once; translate the answer into an outcome or error."""
        spec = action_spec(self.name, self.actions, request.action)
        params = parse_params(self.name, spec.name, PostParams, request.params)
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
            IDEMPOTENCY_HEADER: quote(request.idempotency_key, safe=_HEADER_SAFE),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        host = params.url.host or "?"
        try:
            response = await self._client.post(
                str(params.url),
                content=body,
                headers=headers,
                timeout=params.timeout_seconds,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise TransientChannelError(
                f"webhook to {host} timed out after {params.timeout_seconds:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise TransientChannelError(
                f"webhook to {host} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return self._outcome(response, host, now)

    def _outcome(self, response: httpx.Response, host: str, now: float) -> ActionOutcome:
        status = response.status_code
        logger.debug("webhook to %s answered %s", host, status)
        if 200 <= status < 300:
            return ActionOutcome(external_id=_external_id(response), detail={"status_code": status})
        if status in (408, 429) or status >= 500:
            raise TransientChannelError(
                f"webhook to {host} answered {status}", retry_after=_retry_after(response, now)
            )
        reason = "a redirect, which is not followed" if 300 <= status < 400 else "a client error"
        raise PermanentChannelError(
            f"webhook to {host} answered {status} ({reason})", code=f"http_{status}"
        )
