"""Error bodies shared by the HTTP endpoints: `{"error": {"code", "message"}}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error body with a stable `code` and a message for people."""
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def unauthenticated() -> JSONResponse:
    """401: no key, a malformed one, or one that is unknown or revoked (never says which)."""
    return error_response(
        401,
        "unauthenticated",
        "send a valid API key as `Authorization: Bearer oj_...`",
        headers={"WWW-Authenticate": 'Bearer realm="omnijourney"'},
    )


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
