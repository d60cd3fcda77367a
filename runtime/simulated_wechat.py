"""A simulated Official Account and mini-program for a tenant, beside the simulated WeCom corp.

`omnijourney run` (with `WECHAT_SIMULATOR` on) and the end-to-end test use it. The simulators
run in this process on 127.0.0.1 and keep their state in memory, so each start makes fresh apps:
the tenant's apps are set again (new secrets, same push URLs) through the service behind
`configureWeChatApp`, with the simulators' roots allowed. Each app knows `TEMPLATES`.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from api.services.wechat_settings import WeChatAppInput, WeChatSettingsService, callback_path
from connectors.wechat.simulator import WeChatDriver, WeChatSimulator
from domain.templates import MEMBER_DAY_TEMPLATE
from domain.wechat import MINIPROGRAM, OA
from runtime.simulated_wecom import WithoutSimulatorRequests
from store.database import Store

OA_APPID = "wxsimulatedoa00001"
MINIPROGRAM_APPID = "wxsimulatedmp00001"
TEMPLATES = {
    "order-shipped": ["thing1", "character_string2", "time3"],
    "coupon-ready": ["thing1", "time2"],
    MEMBER_DAY_TEMPLATE: ["thing1", "time2"],
}
"""Template id → keywords, in both simulated apps."""


@dataclass(frozen=True)
class SimulatedApp:
    """A running simulated app connected to a tenant, and a driver playing its users (its
    pushes go to the tenant's push URL)."""

    sim: WeChatSimulator
    driver: WeChatDriver
    callback_url: str


@dataclass(frozen=True)
class SimulatedWeChat:
    """The tenant's simulated Official Account (`oa`) and mini-program (`miniprogram`)."""

    tenant_id: str
    oa: SimulatedApp
    miniprogram: SimulatedApp


def _aes_key() -> str:
    # 32 random bytes in base64 are 43 characters and one "=": the EncodingAESKey shape.
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


@contextlib.asynccontextmanager
async def _app(
    store: Store, http: httpx.AsyncClient, api_base_url: str, tenant_id: str, kind: str, appid: str
) -> AsyncIterator[SimulatedApp]:
    secret, token, aes_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24), _aes_key()
    sim = WeChatSimulator(kind, appid, secret)
    for template_id, keywords in TEMPLATES.items():
        sim.add_template(template_id, keywords)
    async with sim.serve() as base_url:
        settings = await WeChatSettingsService(store, [base_url]).configure(
            tenant_id,
            WeChatAppInput(
                kind=kind,
                appid=appid,
                appsecret=secret,
                callback_token=token,
                encoding_aes_key=aes_key,
                base_url=base_url,
            ),
        )
        url = api_base_url.rstrip("/") + callback_path(kind, settings.callback_id)
        driver = WeChatDriver(
            sim, callback_url=url, token=token, encoding_aes_key=aes_key, http=http
        )
        yield SimulatedApp(sim, driver, url)


@contextlib.asynccontextmanager
async def simulated_wechat(
    store: Store, http: httpx.AsyncClient, api_base_url: str, tenant_id: str
) -> AsyncIterator[SimulatedWeChat]:
    """Serve a fresh simulated Official Account and mini-program and connect `tenant_id` to them;
    `api_base_url` is where the API (and so the push URLs) is reachable."""
    access_log, quiet = logging.getLogger("uvicorn.access"), WithoutSimulatorRequests()
    access_log.addFilter(quiet)
    async with contextlib.AsyncExitStack() as scope:
        scope.callback(access_log.removeFilter, quiet)
        oa = await scope.enter_async_context(
            _app(store, http, api_base_url, tenant_id, OA, OA_APPID)
        )
        miniprogram = await scope.enter_async_context(
            _app(store, http, api_base_url, tenant_id, MINIPROGRAM, MINIPROGRAM_APPID)
        )
        yield SimulatedWeChat(tenant_id, oa, miniprogram)
