"""`SmsSimulator`: one SMS account served over real HTTP as both providers (starlette, uvicorn,
127.0.0.1): Alibaba Cloud's API under `/aliyun/`, Tencent Cloud's under `/tencent/`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Collection

from starlette.applications import Starlette
from starlette.routing import Route

from connectors.sms.simulator.aliyun import AliyunEndpoint
from connectors.sms.simulator.state import Clock, SimulatedSms, SmsAccount
from connectors.sms.simulator.tencent import TencentEndpoint
from connectors.wecom.simulator.server import serve_asgi


class SmsSimulator:
    """An SMS account in memory (`account`: limits, blacklist, balance, injected failures),
    answering as Alibaba Cloud and as Tencent Cloud; `sent` lists what it accepted."""

    def __init__(
        self,
        access_key_id: str,
        secret: str,
        *,
        sdk_app_id: str = "1400000001",
        sign_names: Collection[str] = (),
        templates: Collection[str] = (),
        per_phone_interval: float = 30.0,
        per_phone_daily: int = 10,
        balance: int | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.account = SmsAccount(
            access_key_id=access_key_id,
            secret=secret,
            sdk_app_id=sdk_app_id,
            sign_names=sign_names,
            templates=templates,
            balance=balance,
            per_phone_interval=per_phone_interval,
            per_phone_daily=per_phone_daily,
            clock=clock,
        )
        self.aliyun = AliyunEndpoint(self.account)
        self.tencent = TencentEndpoint(self.account)
        self.root: str | None = None

    @property
    def sent(self) -> list[SimulatedSms]:
        """The messages accepted, oldest first."""
        return self.account.sent

    @property
    def rejected(self) -> list[str]:
        """The codes of requests refused as unauthenticated, by either provider."""
        return [*self.aliyun.rejected, *self.tencent.rejected]

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/aliyun/", self.aliyun.handle, methods=["GET", "POST"]),
                Route("/tencent/", self.tencent.handle, methods=["POST"]),
            ]
        )

    def base_url(self, provider: str) -> str:
        """The API root of `provider` while serving."""
        if self.root is None:
            raise RuntimeError("the simulator is not serving")
        return f"{self.root}{provider}/"

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 (a free port) until the context exits; yields the root URL."""
        async with serve_asgi(self.app()) as root:
            self.root = root
            try:
                yield root
            finally:
                self.root = None
