"""`GET`/`POST /v1/callbacks/wecom/{callback_id}`: WeCom's URL verification and event callbacks.

The query carries `msg_signature`, `timestamp` and `nonce` (and `echostr` on GET). Answers are
`text/plain`, as WeCom expects: the decrypted echostr, or `success` as soon as the callback's
events are stored (or it was handled before, or it is of a kind journeys ignore); routing them to
journeys goes on in the background, so the answer never waits for Temporal.

| status | when |
|--------|------|
| 200    | verified (echostr) / handled (`success`) |
| 400    | a query parameter is missing, or the body is malformed, truncated, wrongly keyed or addressed to another corp |
| 403    | `msg_signature` does not match |
| 404    | no tenant has this callback URL |
| 413    | the body is larger than `max_body_bytes` |
| 500    | the events could not be stored (WeCom retries) |
| 503    | WeCom is not configured on this server |
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.rest.responses import error_response, read_capped
from api.services.wecom import (
    CallbackNotStoredError,
    CallbackRejectedError,
    UnknownCallbackUrlError,
    WeComCallbackService,
    WeComNotConfiguredError,
)

logger = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 64 * 1024
_SIGNED = ("msg_signature", "timestamp", "nonce")


class WeComCallbackEndpoint:
    """The handler of the WeCom callback URL (GET and POST)."""

    def __init__(
        self, service: WeComCallbackService, *, max_body_bytes: int = MAX_CALLBACK_BYTES
    ) -> None:
        self._service = service
        self._max_body_bytes = max_body_bytes

    async def handle(self, request: Request) -> Response:
        callback_id = str(request.path_params["callback_id"])
        wanted = _SIGNED + (("echostr",) if request.method == "GET" else ())
        params = {name: request.query_params.get(name, "") for name in wanted}
        missing = [name for name, value in params.items() if not value]
        try:
            if missing:
                # An unknown URL is a 404 whatever its query says.
                await self._service.check_url(callback_id)
                return error_response(400, "missing_parameters", f"missing {', '.join(missing)}")
            if request.method == "GET":
                echo = await self._service.verify_url(
                    callback_id,
                    params["msg_signature"],
                    params["timestamp"],
                    params["nonce"],
                    params["echostr"],
                )
                return PlainTextResponse(echo)
            body = await read_capped(request, self._max_body_bytes)
            if body is None:
                return error_response(
                    413, "body_too_large", f"the body may be at most {self._max_body_bytes} bytes"
                )
            receipt = await self._service.receive(
                callback_id, params["msg_signature"], params["timestamp"], params["nonce"], body
            )
        except WeComNotConfiguredError as exc:
            return error_response(503, "wecom_not_configured", str(exc))
        except UnknownCallbackUrlError as exc:
            return error_response(404, "unknown_callback", str(exc))
        except CallbackRejectedError as exc:
            logger.info("WeCom callback to %s rejected: %s", callback_id, exc.reason)
            if exc.signature:
                return error_response(403, "bad_signature", exc.reason)
            return error_response(400, "rejected", exc.reason)
        except CallbackNotStoredError:
            logger.exception("WeCom callback to %s not stored", callback_id)
            return error_response(500, "not_stored", "the callback could not be stored")
        logger.debug("WeCom callback to %s: %s %s", callback_id, receipt.status, receipt.kind)
        return PlainTextResponse("success")
