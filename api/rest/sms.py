"""`POST /v1/callbacks/sms/{provider}/{callback_id}`: the providers' delivery reports and replies.

Answers as each provider expects on success: Alibaba Cloud `{"code": 0, "msg": "接收成功"}`,
Tencent Cloud `{"result": 0, "errmsg": "OK"}`; errors are `{"error": {...}}` with a non-2xx
status, which both providers retry.

| status | when |
|--------|------|
| 200    | stored (some entries may have been dropped as not reconciling) |
| 400    | the body is not a push of this provider |
| 403    | no entry reconciles with a message or number of the tenant (nothing stored) |
| 404    | no tenant has this callback URL for this provider |
| 413    | the body is larger than `max_body_bytes` |
| 500    | the events could not be stored |
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.rest.responses import error_response, read_capped
from api.services.sms_callbacks import SmsCallbackService
from api.services.wecom_callbacks import (
    CallbackNotStoredError,
    CallbackRejectedError,
    UnknownCallbackUrlError,
)

logger = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 256 * 1024
_ACK = {
    "aliyun": {"code": 0, "msg": "接收成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
}


class SmsCallbackEndpoint:
    """The handler of the SMS callback URL."""

    def __init__(
        self, service: SmsCallbackService, *, max_body_bytes: int = MAX_CALLBACK_BYTES
    ) -> None:
        self._service = service
        self._max_body_bytes = max_body_bytes

    async def handle(self, request: Request) -> Response:
        provider = str(request.path_params["provider"])
        callback_id = str(request.path_params["callback_id"])
        try:
            # The URL is checked before the body is read.
            await self._service.settings_for(provider, callback_id)
            body = await read_capped(request, self._max_body_bytes)
            if body is None:
                return error_response(
                    413, "body_too_large", f"the body may be at most {self._max_body_bytes} bytes"
                )
            receipt = await self._service.receive(provider, callback_id, body)
        except UnknownCallbackUrlError as exc:
            return error_response(404, "unknown_callback", str(exc))
        except CallbackRejectedError as exc:
            logger.info("SMS push to %s rejected: %s", provider, exc.reason)
            if exc.signature:
                return error_response(403, "not_reconciled", exc.reason)
            return error_response(400, "rejected", exc.reason)
        except CallbackNotStoredError:
            logger.exception("SMS push to %s not stored", provider)
            return error_response(500, "not_stored", "the push could not be stored")
        logger.debug("SMS push: %d events, %d dropped", len(receipt.event_ids), receipt.dropped)
        return JSONResponse(_ACK[provider])
