"""Error bodies shared by the HTTP endpoints: `{"error": {"code", "message"}}`."""

from __future__ import annotations

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
