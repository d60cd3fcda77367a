"""`WeComSimulator`: the simulated corp served over real HTTP (starlette on uvicorn, 127.0.0.1).

Every endpoint lives under `/cgi-bin/`, takes `access_token` in the query (except `gettoken`),
and answers JSON with `errcode`/`errmsg` like `qyapi.weixin.qq.com`. Before an endpoint runs,
an injected failure (`fail_next`) and then the per-API frequency limit (45009) are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.wecom.simulator.staff import CorpStaffTasks
from connectors.wecom.simulator.state import (
    BAD_JSON,
    FREQUENCY_LIMIT,
    Body,
    Clock,
    WeComError,
)
from domain.channels import MassMessageLimit

Handler = Callable[[Body], Body]
GET, POST = "GET", "POST"


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handling: the simulator stops when its context exits."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class WeComSimulator(CorpStaffTasks):
    """A WeCom corp in memory, served by `serve()`; the clock is injectable (seconds)."""

    def __init__(
        self,
        corp_id: str = "ww-test",
        secret: str = "s3cret",  # noqa: S107 - a simulated corp, not a real credential
        *,
        token_ttl: float = 7200.0,
        welcome_ttl: float = 20.0,
        per_minute: int = 10_000,
        monthly_limit: int | None = None,
        mass_limit: MassMessageLimit = "per_month",
        clock: Clock = time.time,
        answer_delay: float = 0.0,
    ) -> None:
        super().__init__(
            corp_id,
            secret,
            clock=clock,
            token_ttl=token_ttl,
            welcome_ttl=welcome_ttl,
            mass_limit=mass_limit,
            monthly_limit=monthly_limit,
        )
        self.per_minute = per_minute
        # Seconds between acting on a call and answering it: the window in which a caller that
        # dies never learns that its call took effect.
        self.answer_delay = answer_delay
        self.calls: list[str] = []  # every API path called, in order
        self._windows: dict[str, tuple[float, int]] = {}  # path → (window start, calls)
        self._failures: dict[str, list[int]] = {}
        self._lost: dict[str, int] = {}  # path → answers still to lose
        self.base_url: str | None = None

    # --- controls -------------------------------------------------------------------------

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls of `path` fail with `errcode` (500-599: that HTTP status)."""
        self._failures.setdefault(path.strip("/"), []).extend([errcode] * times)

    def lose_answer_next(self, path: str, times: int = 1) -> None:
        """The next `times` calls of `path` take effect but answer HTTP 502, as if the answer
        was lost on its way back (a gateway timeout, a dropped connection)."""
        key = path.strip("/")
        self._lost[key] = self._lost.get(key, 0) + times

    # --- HTTP -----------------------------------------------------------------------------

    def routes(self) -> dict[str, tuple[str, Handler]]:
        """Path (under /cgi-bin/) → (method, handler)."""
        ec = "externalcontact/"
        return {
            "gettoken": (GET, self.gettoken),
            ec + "get": (GET, self.externalcontact_get),
            ec + "send_welcome_msg": (POST, self.send_welcome_msg),
            ec + "add_contact_way": (POST, self.add_contact_way),
            ec + "get_contact_way": (POST, self.get_contact_way),
            ec + "update_contact_way": (POST, self.update_contact_way),
            ec + "del_contact_way": (POST, self.del_contact_way),
            ec + "groupchat/add_join_way": (POST, self.add_join_way),
            ec + "groupchat/get_join_way": (POST, self.get_join_way),
            ec + "groupchat/update_join_way": (POST, self.update_join_way),
            ec + "groupchat/del_join_way": (POST, self.del_join_way),
            ec + "groupchat/get": (POST, self.groupchat_get),
            ec + "add_msg_template": (POST, self.add_msg_template),
            ec + "cancel_groupmsg_send": (POST, self.cancel_groupmsg_send),
            ec + "get_groupmsg_list_v2": (POST, self.get_groupmsg_list_v2),
            ec + "get_groupmsg_task": (POST, self.get_groupmsg_task),
            ec + "get_groupmsg_send_result": (POST, self.get_groupmsg_send_result),
            ec + "mark_tag": (POST, self.mark_tag),
            ec + "get_corp_tag_list": (POST, self.get_corp_tag_list),
            ec + "add_corp_tag": (POST, self.add_corp_tag_api),
            ec + "add_moment_task": (POST, self.add_moment_task),
            ec + "get_moment_task_result": (GET, self.get_moment_task_result),
            ec + "transfer_customer": (POST, self.transfer_customer),
            ec + "transfer_result": (POST, self.transfer_result),
            ec + "resigned/transfer_customer": (POST, self.resigned_transfer_customer),
            ec + "resigned/transfer_result": (POST, self.resigned_transfer_result),
        }

    def resigned_transfer_customer(self, body: Body) -> Body:
        return self.transfer_customer(body, resigned=True)

    def resigned_transfer_result(self, body: Body) -> Body:
        return self.transfer_result(body, resigned=True)

    def _throttle(self, path: str) -> None:
        now = self.now()
        start, count = self._windows.get(path, (now, 0))
        if now - start >= 60.0:
            start, count = now, 0
        if count >= self.per_minute:
            raise WeComError(FREQUENCY_LIMIT, "api freq out of limit")
        self._windows[path] = (start, count + 1)

    def _injected(self, path: str) -> int | None:
        queue = self._failures.get(path)
        return queue.pop(0) if queue else None

    async def _read(self, request: Request, method: str) -> Body:
        if method == GET:
            return dict(request.query_params)
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise WeComError(BAD_JSON, "request body is not JSON") from exc
        if not isinstance(body, dict):
            raise WeComError(BAD_JSON, "request body is not a JSON object")
        return body

    def app(self) -> Starlette:
        """The starlette app answering WeCom's API paths under /cgi-bin/."""
        routes = []
        for path, (method, handler) in self.routes().items():
            routes.append(
                Route(f"/cgi-bin/{path}", self._endpoint(path, method, handler), methods=[method])
            )
        return Starlette(routes=routes)

    def _endpoint(self, path: str, method: str, handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.calls.append(path)
            try:
                injected = self._injected(path)
                if injected is not None and 500 <= injected < 600:
                    return JSONResponse({"errcode": -1, "errmsg": "injected"}, status_code=injected)
                if injected is not None:
                    raise WeComError(injected, "injected failure")
                self._throttle(path)
                if path != "gettoken":
                    self.check_token(request.query_params.get("access_token"))
                answer = handler(await self._read(request, method))
            except WeComError as err:
                return JSONResponse({"errcode": err.errcode, "errmsg": err.errmsg})
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            if self._lost.get(path):
                self._lost[path] -= 1
                return JSONResponse({"errcode": -1, "errmsg": "answer lost"}, status_code=502)
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


@contextlib.asynccontextmanager
async def serve_asgi(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a free port) until the context exits; yields
    `http://127.0.0.1:<port>/`. The server stops (and its port closes) when the context exits."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(2000):  # uvicorn has no "started" event; give it up to 20 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            if task.done():
                task.result()  # re-raises the reason it did not start
            raise RuntimeError("the server did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:  # pragma: no cover - a connection that never closes
            server.force_exit = True
