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
| the key is revoked or expires while connected          | close 4401 (within `recheck_interval`) |
| a `subscribe` over the key's request rate (`limiter`)   | an `error` message for that id (`RATE_LIMITED`, `retryAfter`); the connection stays open |

Then it hands the connection to strawberry, replaying the handshake and the `connection_init`
(strawberry acknowledges it), with the principal in the ASGI scope for the request context.

While the connection is open the gate re-checks the key every `recheck_interval` seconds (one
`_id` lookup): once it is revoked or has expired, the connection is closed with 4401 and its
subscriptions end (strawberry sees a disconnect and cancels them), so a revoked key loses its
live feeds within about that interval instead of keeping them for as long as the socket lives.
Credentials are bearer tokens, never cookies, so pages on any origin may connect.

Every `subscribe` takes a token from the key's bucket, the same one its HTTP requests draw on:
graphql-transport-ws runs queries and mutations as well as subscriptions, so without it a socket
would be an unmetered side door around the rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import Permission, Principal, authenticate
from api.rate_limit import RateLimiter, retry_after_header
from store.tenants import TenantRepository

logger = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
HANDSHAKE_REFUSED = 1002
KEY_RECHECK_INTERVAL = 1.0
"""Seconds between re-checks of an open connection's key (revoked or expired closes it)."""

KeyCheck = Callable[[Principal], Awaitable[bool]]
"""Whether the principal's key still authenticates."""


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
    """Authenticates a `graphql-transport-ws` connection, then passes it to `app`, closing it
    when its key stops being usable (`still_usable`, checked every `recheck_interval`)."""

    def __init__(
        self,
        tenants: TenantRepository,
        app: ASGIApp,
        principal_scope_key: str,
        init_timeout: float = 10.0,
        *,
        still_usable: KeyCheck | None = None,
        recheck_interval: float = KEY_RECHECK_INTERVAL,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._tenants = tenants
        self._app = app
        self._principal_key = principal_scope_key
        self._init_timeout = init_timeout
        self._still_usable = still_usable or self._usable_in_store
        self._recheck_interval = recheck_interval
        self._limiter = limiter

    async def _usable_in_store(self, principal: Principal) -> bool:
        return await self._tenants.is_usable(
            principal.tenant_id, principal.key_id, datetime.now(UTC)
        )

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
        charge = None
        if self._limiter is not None:
            limiter, key_id = self._limiter, principal.key_id

            def charge() -> float | None:
                return limiter.acquire(key_id)

        connection = _Connection(receive, send, [connect, first], charge)
        watcher = asyncio.create_task(self._watch(principal, connection))
        try:
            await self._app(scope, connection.receive, connection.send)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            connection.stop()

    async def _watch(self, principal: Principal, connection: _Connection) -> None:
        while True:
            await asyncio.sleep(self._recheck_interval)
            try:
                usable = await self._still_usable(principal)
            except Exception:
                # A store hiccup is no proof of revocation; the next check decides.
                logger.warning("could not re-check a websocket's API key", exc_info=True)
                continue
            if not usable:
                await connection.end(CLOSE_UNAUTHORIZED, "API key revoked or expired")
                return


class _Connection:
    """The ASGI channel between the gate and strawberry: replays the messages the gate read, and
    can be ended from outside (the client gets a close, strawberry a disconnect)."""

    def __init__(
        self,
        receive: Receive,
        send: Send,
        replay: list[Message],
        charge: Callable[[], float | None] | None = None,
    ) -> None:
        self._receive = receive
        self._charge = charge
        self._send = send
        self._replay = replay
        self._ended = asyncio.Event()
        self._end_code = CLOSE_UNAUTHORIZED
        self._pending: asyncio.Future[Any] | None = None

    async def receive(self) -> Message:
        if self._replay:
            return self._replay.pop(0)
        while True:
            message = await self._next()
            if not await self._over_rate(message):
                return message

    async def _over_rate(self, message: Message) -> bool:
        """Whether `message` is a `subscribe` over the key's rate: then it is answered with an
        `error` for its id here and strawberry never sees it."""
        if self._charge is None or message["type"] != "websocket.receive":
            return False
        body = _json(message)
        if not isinstance(body, dict) or body.get("type") != "subscribe":
            return False
        wait = self._charge()
        if wait is None:
            return False
        error = {
            "message": "Too many requests for this API key; retry later",
            "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after_header(wait)},
        }
        reply = {"type": "error", "id": body.get("id"), "payload": [error]}
        await self.send({"type": "websocket.send", "text": json.dumps(reply)})
        return True

    async def _next(self) -> Message:
        if self._ended.is_set():
            return {"type": "websocket.disconnect", "code": self._end_code}
        # One read of the client stays pending across calls: cancelling it could lose a message.
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._receive())
        ended: asyncio.Future[Any] = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({self._pending, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
        if self._pending.done():
            message: Message = self._pending.result()
            self._pending = None
            return message
        return {"type": "websocket.disconnect", "code": self._end_code}

    async def send(self, message: Message) -> None:
        if message["type"] == "websocket.accept":  # the gate has accepted already
            return
        if self._ended.is_set():
            return  # closed by the gate: what strawberry still says goes nowhere
        await self._send(message)

    async def end(self, code: int, reason: str) -> None:
        """Close the websocket with `code`; strawberry then reads a disconnect."""
        if self._ended.is_set():
            return
        self._end_code = code
        self._ended.set()
        with contextlib.suppress(Exception):  # the client may be gone already
            await _close(self._send, code, reason)

    def stop(self) -> None:
        """Drop the pending read, once the app is done with the connection."""
        if self._pending is not None:
            self._pending.cancel()


async def _close(send: Send, code: int, reason: str) -> None:
    await send({"type": "websocket.close", "code": code, "reason": reason})
