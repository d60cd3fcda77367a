"""`GET`/`POST /v1/callbacks/{oa,miniprogram}/{callback_id}`: WeChat's message push URL.

GET is the URL verification (`signature`, `timestamp`, `nonce`, `echostr`); POST a push in safe
mode (`msg_signature`, `timestamp`, `nonce`, `encrypt_type=aes`). Plain-text pushes are refused:
an unencrypted push cannot be told from a forged one by its content. Answers are `text/plain`:
the echostr, or `success` as soon as the push's events are stored (routing goes on in the
background).

| status | when |
|--------|------|
| 200    | verified (echostr) / handled (`success`) |
| 400    | a query parameter is missing, not safe mode, or the body is malformed or for another app |
| 403    | the signature does not match |
| 404    | no tenant has this callback URL |
| 413    | the body is larger than `max_body_bytes` |
| 500    | the events could not be stored (WeChat retries) |
| 503    | WeChat is not configured on this server |
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.rest.responses import error_response, read_capped
from api.rest.wecom import MAX_CALLBACK_BYTES
from api.services.wechat_callbacks import WeChatCallbackService, WeChatNotConfiguredError
from api.services.wecom_callbacks import (
    CallbackNotStoredError,
    CallbackRejectedError,
    UnknownCallbackUrlError,
)

logger = logging.getLogger(__name__)

_GET = ("signature", "timestamp", "nonce", "echostr")
_POST = ("msg_signature", "timestamp", "nonce")


class WeChatCallbackEndpoint:
    """The handler of an app's message push URL (GET and POST); the kind is in the path."""

    def __init__(
        self, service: WeChatCallbackService, kind: str, *, max_body_bytes: int = MAX_CALLBACK_BYTES
    ) -> None:
        self._service = service
        self._kind = kind
        self._max_body_bytes = max_body_bytes

    async def handle(self, request: Request) -> Response:
        callback_id = str(request.path_params["callback_id"])
        wanted = _GET if request.method == "GET" else _POST
        params = {name: request.query_params.get(name, "") for name in wanted}
        missing = [name for name, value in params.items() if not value]
        kind = self._kind
        try:
            if missing:
                await self._service.check_url(kind, callback_id)  # unknown URL: 404 first
                return error_response(400, "missing_parameters", f"missing {', '.join(missing)}")
            if request.method == "GET":
                echo = await self._service.verify_url(
                    kind,
                    callback_id,
                    params["signature"],
                    params["timestamp"],
                    params["nonce"],
                    params["echostr"],
                )
                return PlainTextResponse(echo)
            if request.query_params.get("encrypt_type") != "aes":
                await self._service.check_url(kind, callback_id)
                return error_response(
                    400, "not_safe_mode", "only safe-mode (aes) pushes are accepted"
                )
            body = await read_capped(request, self._max_body_bytes)
            if body is None:
                return error_response(
                    413, "body_too_large", f"the body may be at most {self._max_body_bytes} bytes"
                )
            receipt = await self._service.receive(
                kind,
                callback_id,
                params["msg_signature"],
                params["timestamp"],
                params["nonce"],
                body,
            )
        except WeChatNotConfiguredError as exc:
            return error_response(503, "wechat_not_configured", str(exc))
        except UnknownCallbackUrlError as exc:
            return error_response(404, "unknown_callback", str(exc))
        except CallbackRejectedError as exc:
            logger.info("WeChat %s push to %s rejected: %s", kind, callback_id, exc.reason)
            if exc.signature:
                return error_response(403, "bad_signature", exc.reason)
            return error_response(400, "rejected", exc.reason)
        except CallbackNotStoredError:
            logger.exception("WeChat %s push to %s not stored", kind, callback_id)
            return error_response(500, "not_stored", "the push could not be stored")
        logger.debug("WeChat push to %s: %s %s", callback_id, receipt.status, receipt.kind)
        return PlainTextResponse("success")
