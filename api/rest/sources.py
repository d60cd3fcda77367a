"""`POST /v1/sources/{douyin,xiaohongshu,orders,youzan}/{callback_id}`: lead and order pushes.

Each verifies the push's signature with the tenant's secret before reading anything else
(`api.services.sources`), then answers in the JSON its platform expects once the events are
stored: Douyin `{"code": 0, "message": "success"}` (its URL check `{"challenge": n}`),
Xiaohongshu `{"code": 0, "msg": "success"}`, Youzan `{"code": 0, "msg": "success"}`, the order
webhook `{"ok": true, "event_ids": [...]}`.

The order webhook (documented here and in the README):

    POST /v1/sources/orders/{callback_id}
    Content-Type: application/json
    X-Omnijourney-Timestamp: <unix seconds>
    X-Omnijourney-Signature: sha256=<hex>

    <one order message, `domain.sources.orders`>

The signature is the lowercase hex HMAC-SHA256, keyed with the tenant's order secret
(`setOrderWebhook` / `rotateOrderWebhookSecret`), of the timestamp header's ASCII, one `.`, then
the raw body bytes. A timestamp more than 300 s from the server's clock is refused (a replay);
during a rotation's overlap either secret signs (list both, comma-separated, as the webhook
channel does). Re-sending a message is safe: its event id is the order (and refund) id.

| status | when |
|--------|------|
| 200    | stored (or stored before), or a message of a kind that carries no order/lead |
| 400    | the body is not JSON, or not a lead/order message (the error says what is wrong) |
| 403    | the signature does not match (or, order webhook, the timestamp is stale) |
| 404    | no tenant has this URL |
| 413    | the body is larger than `max_body_bytes` |
| 500    | the events could not be stored (the platform retries) |
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.rest.responses import error_response, read_capped
from api.services.sources import (
    SourceNotStoredError,
    SourceRejectedError,
    SourceService,
    UnknownSourceUrlError,
)

logger = logging.getLogger(__name__)

MAX_SOURCE_BYTES = 256 * 1024


class SourceEndpoints:
    """The handlers of the source URLs."""

    def __init__(self, service: SourceService, *, max_body_bytes: int = MAX_SOURCE_BYTES) -> None:
        self._service = service
        self._max_body_bytes = max_body_bytes

    async def douyin(self, request: Request) -> Response:
        """Douyin lead pushes."""
        return await self._handle(request, "douyin", self._service.douyin)

    async def xiaohongshu(self, request: Request) -> Response:
        """Xiaohongshu lead pushes."""
        return await self._handle(request, "xiaohongshu", self._service.xiaohongshu)

    async def orders(self, request: Request) -> Response:
        """The order webhook."""
        return await self._handle(request, "orders", self._service.orders)

    async def youzan(self, request: Request) -> Response:
        """Youzan pushes."""

        async def take(callback_id: str, _headers: Any, body: bytes) -> dict[str, Any]:
            return await self._service.youzan(callback_id, body)

        return await self._handle(request, "youzan", take)

    async def _handle(
        self,
        request: Request,
        source: str,
        take: Callable[[str, Any, bytes], Awaitable[dict[str, Any]]],
    ) -> Response:
        callback_id = str(request.path_params["callback_id"])
        body = await read_capped(request, self._max_body_bytes)
        if body is None:
            return error_response(
                413, "body_too_large", f"the body may be at most {self._max_body_bytes} bytes"
            )
        try:
            answer = await take(callback_id, request.headers, body)
        except UnknownSourceUrlError as exc:
            return error_response(404, "unknown_callback", str(exc))
        except SourceRejectedError as exc:
            logger.info("%s push to %s rejected: %s", source, callback_id, exc.reason)
            if exc.signature:
                return error_response(403, "bad_signature", exc.reason)
            return error_response(400, "rejected", exc.reason)
        except SourceNotStoredError:
            logger.exception("%s push to %s not stored", source, callback_id)
            return error_response(500, "not_stored", "the push could not be stored")
        return JSONResponse(answer)
