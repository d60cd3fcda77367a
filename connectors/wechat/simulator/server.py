"""`WeChatSimulator`: a simulated Official Account or mini-program served over real HTTP.

Every endpoint lives under `/cgi-bin/` and answers JSON with `errcode`/`errmsg` like
`api.weixin.qq.com`; the send endpoints take `access_token` in the query. Before an endpoint runs,
an injected failure (`fail_next`) and then the per-API frequency limit (45009) are checked.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.wechat.simulator.state import (
    BAD_JSON,
    FREQUENCY_LIMIT,
    AppState,
    Body,
    Clock,
    WeChatError,
)
from connectors.wecom.simulator.server import serve_asgi

Handler = Callable[[Body], Body]
_UNAUTHENTICATED = ("stable_token", "token")


class WeChatSimulator(AppState):
    """One WeChat app in memory (`kind` `oa` or `miniprogram`), served by `serve()`."""

    def __init__(
        self,
        kind: str = "oa",
        appid: str = "wx0123456789abcdef",
        secret: str = "s3cret",  # noqa: S107 - a simulated app, not a real credential
        *,
        token_ttl: float = 7200.0,
        per_minute: int = 10_000,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(kind=kind, appid=appid, secret=secret, clock=clock, token_ttl=token_ttl)
        self.per_minute = per_minute
        self.calls: list[str] = []  # every API path called, in order
        self._windows: dict[str, tuple[float, int]] = {}
        self._failures: dict[str, list[int]] = {}
        self.base_url: str | None = None

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls of `path` fail with `errcode` (500-599: that HTTP status)."""
        self._failures.setdefault(path.strip("/"), []).extend([errcode] * times)

    def routes(self) -> dict[str, tuple[str, Handler]]:
        """Path (under /cgi-bin/) → (method, handler)."""
        routes: dict[str, tuple[str, Handler]] = {
            "stable_token": ("POST", self.stable_token),
            "token": ("GET", self.token),
        }
        if self.kind == "oa":
            routes["message/template/send"] = ("POST", self.template_send)
            routes["message/subscribe/bizsend"] = ("POST", self.subscribe_bizsend)
        else:
            routes["message/subscribe/send"] = ("POST", self.subscribe_send)
        return routes

    def calls_of(self, path: str) -> int:
        """How many times `path` was called."""
        return self.calls.count(path)

    def _throttle(self, path: str) -> None:
        now = self.clock()
        start, count = self._windows.get(path, (now, 0))
        if now - start >= 60.0:
            start, count = now, 0
        if count >= self.per_minute:
            raise WeChatError(FREQUENCY_LIMIT, "api freq out of limit")
        self._windows[path] = (start, count + 1)

    async def _read(self, request: Request, method: str) -> Body:
        if method == "GET":
            return dict(request.query_params)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise WeChatError(BAD_JSON, "data format error") from exc
        if not isinstance(body, dict):
            raise WeChatError(BAD_JSON, "data format error")
        return body

    def app(self) -> Starlette:
        """The starlette app answering WeChat's API paths under /cgi-bin/."""
        return Starlette(
            routes=[
                Route(f"/cgi-bin/{path}", self._endpoint(path, method, handler), methods=[method])
                for path, (method, handler) in self.routes().items()
            ]
        )

    def _endpoint(self, path: str, method: str, handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.calls.append(path)
            try:
                queue = self._failures.get(path)
                injected = queue.pop(0) if queue else None
                if injected is not None and 500 <= injected < 600:
                    return JSONResponse({"errcode": -1, "errmsg": "injected"}, status_code=injected)
                if injected is not None:
                    raise WeChatError(injected, "injected failure")
                self._throttle(path)
                if path not in _UNAUTHENTICATED:
                    self.check_token(request.query_params.get("access_token"))
                answer = handler(await self._read(request, method))
            except WeChatError as err:
                return JSONResponse({"errcode": err.errcode, "errmsg": err.errmsg})
            if path in _UNAUTHENTICATED:
                return JSONResponse(answer)  # the token endpoints answer no errcode on success
            return JSONResponse({"errcode": 0, "errmsg": "ok", **answer})

        return endpoint

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 (a free port) until the context exits; yields the base URL."""
        async with serve_asgi(self.app()) as root:
            self.base_url = root + "cgi-bin/"
            try:
                yield self.base_url
            finally:
                self.base_url = None
