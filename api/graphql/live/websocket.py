"""The websocket door to subscriptions: `graphql-transport-ws` only, authenticated first.

Browsers cannot set headers on a websocket, so the API key may come in the `connection_init`
payload, `{"authorization": "Bearer oj_..."}`, as well as in the `Authorization` header of the
handshake (the header wins when both are sent). The gate reads `connection_init` itself, before
any subscription can run:

| situation                                              | answer |
|--------------------------------------------------------|--------|
| the client does not offer `graphql-transport-ws` (e.g. only the legacy `graphql-ws`) | handshake refused (HTTP 403) |
| no `connection_init` within `init_timeout`             | close 4408 |
| first message is not a `connection_init`               | close 4401 (or 4400 when it is not JSON) |
| no key, an unknown or a revoked one                    | close 4401 |
| a key whose role may not read                          | close 4403 |

Then it hands the connection to strawberry, replaying the handshake and the `connection_init`
(strawberry acknowledges it), with the principal in the ASGI scope for the request context. The
principal is fixed for the connection's life: revoking a key ends access at the next connection.
Credentials are bearer tokens, never cookies, so pages on any origin may connect.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import Permission, authenticate
from store.tenants import TenantRepository

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
HANDSHAKE_REFUSED = 1002


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _json(message: Message) -> Any:
    text = message.get("text")
    if text is None and message.get("bytes") is not None:
        text = bytes(message["bytes"]).decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None


def _authorization(scope: Scope, init: dict[str, Any]) -> str | None:
    header = _header(scope, b"authorization")
    if header:
        return header
    payload = init.get("payload")
    if not isinstance(payload, dict):
        return None
    for key in ("authorization", "Authorization"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return None


class WebSocketGate:
    """Authenticates a `graphql-transport-ws` connection, then passes it to `app`."""

    def __init__(
        self,
        tenants: TenantRepository,
        app: ASGIApp,
        principal_scope_key: str,
        init_timeout: float = 10.0,
    ) -> None:
        self._tenants = tenants
        self._app = app
        self._principal_key = principal_scope_key
        self._init_timeout = init_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return
        if GRAPHQL_TRANSPORT_WS_PROTOCOL not in scope.get("subprotocols", []):
            # closing before accepting refuses the handshake (HTTP 403)
            await send({"type": "websocket.close", "code": HANDSHAKE_REFUSED})
            return
        await send({"type": "websocket.accept", "subprotocol": GRAPHQL_TRANSPORT_WS_PROTOCOL})
        try:
            first = await asyncio.wait_for(receive(), self._init_timeout)
        except TimeoutError:
            await _close(send, CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")
            return
        if first["type"] != "websocket.receive":
            return
        init = _json(first)
        if not isinstance(init, dict):
            await _close(send, CLOSE_BAD_REQUEST, "WebSocket message must be valid JSON")
            return
        if init.get("type") != "connection_init":
            await _close(send, CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        principal = await authenticate(self._tenants, _authorization(scope, init))
        if principal is None:
            await _close(send, CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        if not principal.can(Permission.READ):
            await _close(send, CLOSE_FORBIDDEN, "Forbidden")
            return
        scope[self._principal_key] = principal
        replay: list[Message] = [connect, first]

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        async def accepted_once(message: Message) -> None:
            if message["type"] != "websocket.accept":  # the gate has accepted already
                await send(message)

        await self._app(scope, replayed, accepted_once)


async def _close(send: Send, code: int, reason: str) -> None:
    await send({"type": "websocket.close", "code": code, "reason": reason})
