"""E-mail's inbound URLs: one-click unsubscribe links and signed bounce reports.

`/v1/unsubscribe/{token}` (the `List-Unsubscribe` link of every message, RFC 8058):

| method | answer |
|--------|--------|
| GET    | 200, a small page with a button that POSTs `List-Unsubscribe=One-Click` back here; nothing changes (mail scanners and link previews fetch GETs) |
| POST   | 200 once the customer is opted out of e-mail (again: 200, nothing new) |
| either | 404 for a token this server did not sign (forged, altered, another tenant's key), nothing changed |

`POST /v1/webhooks/email/{tenant_id}/bounces` (format in `api.services.email_inbound`):

| status | when |
|--------|------|
| 202    | stored as an `email.bounced` event (`{"status", "event_id", "customer_id"}`) |
| 400    | signed, but not a valid report |
| 401    | the signature headers are missing or do not verify (nothing read) |
| 413    | the body is larger than 64 KiB |
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from api.rest.responses import error_response, read_capped
from api.services.email_inbound import (
    BounceRejectedError,
    EmailInboundService,
    UnsubscribeRejectedError,
)
from domain.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

MAX_BOUNCE_BYTES = 64 * 1024
TIMESTAMP_HEADER = "X-Omnijourney-Timestamp"
SIGNATURE_HEADER = "X-Omnijourney-Signature"
# The token is in the URL: no caching, no referrer, no indexing.
_PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<h1 style="font-size: 1.4rem">{title}</h1>
<p>{text}</p>
{form}
</body></html>
"""
_FORM = """<form method="post" action="">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>"""


def _page(status: int, title: str, text: str, form: str = "") -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, text=text, form=form), status, headers=_PRIVATE)


class UnsubscribeEndpoint:
    """GET: confirm; POST: unsubscribe (RFC 8058 one-click, or the confirmation's button)."""

    def __init__(self, service: EmailInboundService) -> None:
        self._service = service

    async def handle(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        try:
            if request.method == "GET":
                await self._service.check(token)
                return _page(
                    200,
                    "Unsubscribe from these e-mails?",
                    "You will no longer receive these e-mails at this address.",
                    _FORM,
                )
            await self._service.unsubscribe(token)
        except UnsubscribeRejectedError as exc:
            logger.info("unsubscribe link rejected: %s", exc)
            return _page(404, "Link not valid", "This unsubscribe link is not valid.")
        except NotFoundError:
            return _page(404, "Link not valid", "This unsubscribe link is not valid.")
        return _page(200, "You are unsubscribed", "You will no longer receive these e-mails.")


class BounceEndpoint:
    """Signed bounce reports of one tenant."""

    def __init__(self, service: EmailInboundService) -> None:
        self._service = service

    async def handle(self, request: Request) -> Response:
        tenant_id = str(request.path_params["tenant_id"])
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not timestamp or not signature:
            return error_response(
                401, "bad_signature", f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
            )
        body = await read_capped(request, MAX_BOUNCE_BYTES)
        if body is None:
            return error_response(
                413, "body_too_large", f"the body may be at most {MAX_BOUNCE_BYTES} bytes"
            )
        try:
            result = await self._service.receive_bounce(tenant_id, timestamp, signature, body)
        except BounceRejectedError as exc:
            return error_response(401, "bad_signature", str(exc))
        except InvalidInputError as exc:
            problems = "; ".join(f"{p.path}: {p.message}" for p in exc.problems)
            return error_response(400, "invalid_report", problems)
        return JSONResponse(
            {
                "status": result.status,
                "event_id": result.event_id,
                "customer_id": result.customer_id,
            },
            202,
        )
