"""`POST /v1/events`: a batch of events, each stored and routed on its own.

Body: `{"events": [...]}` or a bare list, at most `max_batch` events and `max_body_bytes` bytes.
Answers 202 once every event has been dealt with, with one result per event (multi-status
style): a malformed event is named by its index and id and does not stop the others.

| status | when |
|--------|------|
| 202    | the batch was processed (see each result's `status`) |
| 400    | the body is not JSON, not a list of events, or empty |
| 401    | no valid API key |
| 403    | the key's role may not ingest events |
| 413    | the body or the batch is too large |
| 429    | the key's request rate limit is spent (`Retry-After` says when to retry; `api.rate_limit`) |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.auth import Permission, authenticate
from api.rate_limit import RateLimiter, retry_after_header
from api.rest.responses import error_response, unauthenticated
from api.services.container import Services
from ingestion.results import IngestResult


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """How much one request may carry."""

    max_batch: int = 500
    max_body_bytes: int = 2 * 1024 * 1024


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def _events_of(payload: Any) -> list[Any] | None:
    if isinstance(payload, list):
        return payload
    if (
        isinstance(payload, dict)
        and set(payload) == {"events"}
        and isinstance(payload["events"], list)
    ):
        return list(payload["events"])
    return None


def result_json(result: IngestResult) -> dict[str, Any]:
    """The JSON form of one event's result."""
    return {
        "index": result.index,
        "id": result.event_id,
        "status": result.status,
        "customer_id": result.customer_id,
        "customer_created": result.customer_created,
        "errors": [{"path": p.path, "message": p.message} for p in result.errors],
        "enrollments": [
            {"enrollment_id": r.enrollment_id, "journey_id": r.journey_id, "action": r.action}
            for r in result.routes
        ],
        "notes": list(result.notes),
        "routing_error": result.routing_error,
    }


def batch_json(results: list[IngestResult]) -> dict[str, Any]:
    """Counts per status and every result, in batch order."""

    def count(status: str) -> int:
        return sum(1 for r in results if r.status == status)

    return {
        "accepted": count("accepted"),
        "duplicates": count("duplicate"),
        "rejected": count("rejected"),
        "failed": count("failed"),
        "results": [result_json(r) for r in results],
    }


class EventsEndpoint:
    """The handler of `POST /v1/events`."""

    def __init__(
        self, services: Services, limits: IngestLimits, limiter: RateLimiter | None = None
    ) -> None:
        self._services = services
        self._limits = limits
        self._limiter = limiter

    async def handle(self, request: Request) -> Response:
        principal = await authenticate(
            self._services.store.tenants, request.headers.get("authorization")
        )
        if principal is None:
            return unauthenticated()
        wait = None if self._limiter is None else self._limiter.acquire(principal.key_id)
        if wait is not None:
            retry = retry_after_header(wait)
            return error_response(
                429,
                "rate_limited",
                f"this API key's request rate limit is spent; retry in {retry} s",
                headers={"Retry-After": retry},
            )
        if not principal.can(Permission.INGEST_EVENTS):
            return error_response(403, "forbidden", f"a {principal.role} key may not ingest events")
        limits = self._limits
        try:
            body = await _read_body(request, limits.max_body_bytes)
        except _TooLarge:
            return error_response(
                413, "body_too_large", f"the body may be at most {limits.max_body_bytes} bytes"
            )
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return error_response(400, "invalid_json", f"the body is not JSON: {exc}")
        events = _events_of(payload)
        if events is None:
            return error_response(
                400, "invalid_body", 'send {"events": [...]} or a JSON list of events'
            )
        if not events:
            return error_response(400, "empty_batch", "the batch holds no events")
        if len(events) > limits.max_batch:
            return error_response(
                413,
                "batch_too_large",
                f"a batch may hold at most {limits.max_batch} events, not {len(events)}",
            )
        results = await self._services.ingest.ingest(principal.tenant_id, events)
        return JSONResponse(batch_json(results), status_code=202)
