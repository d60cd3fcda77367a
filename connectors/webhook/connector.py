"""The `webhook` connector: one signed POST per action, its answer mapped to an outcome."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import quote

import httpx
import pydantic_core
from pydantic import ValidationError

from connectors.base import ActionOutcome, ActionRequest, ActionSpec, action_spec, parse_params
from connectors.errors import InvalidActionParamsError, PermanentChannelError, TransientChannelError
from connectors.netguard import DestinationGuard, DestinationNotAllowedError, GuardedTransport
from connectors.webhook.params import bound_params
from connectors.webhook.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SigningSecrets,
    sign,
)

CHANNEL = "webhook"

logger = logging.getLogger(__name__)

_MAX_RESPONSE_BYTES = 64 * 1024
_HEADER_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "%")


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
        self._params = bound_params(self.guard)
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
