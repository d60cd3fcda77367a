"""A simulated SMS provider account for a tenant: the simulator, the tenant's `sms` settings on
it, and a reporter pushing each message's delivery report back, as a provider does.

`omnijourney run` (with `SMS_SIMULATOR` set to `aliyun` or `tencent`) uses it. The simulator runs
in this process on 127.0.0.1 with a fresh random key pair each start; the tenant's settings are
set again through the service behind `configureSms` (its callback URL is kept), and reports go
to the API's callback URL `report_delay` seconds after each message is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from api.services.sms_settings import SmsSettingsInput, SmsSettingsService, sms_callback_path
from connectors.sms.simulator import SmsDriver, SmsSimulator
from domain.sms import SmsProvider
from store.database import Store

SIGN_NAME = "omnijourney"
SDK_APP_ID = "1400000001"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulatedSmsAccount:
    """A running simulated account connected to `tenant_id`."""

    tenant_id: str
    provider: SmsProvider
    sim: SmsSimulator
    driver: SmsDriver
    callback_url: str


async def _report_each(sim: SmsSimulator, driver: SmsDriver, delay: float) -> None:
    # Like the providers, a report not acknowledged is pushed again (a few times).
    seen = 0
    tries: dict[str, int] = {}
    while True:
        await asyncio.sleep(delay)
        pending = sim.sent[seen:]
        seen = len(sim.sent)
        for sms in pending:
            tries[sms.message_id] = 0
        for sms in [s for s in sim.sent if s.message_id in tries]:
            tries[sms.message_id] += 1
            try:
                pushed = await driver.report(sms)
            except httpx.HTTPError as exc:
                log.warning("SMS report of %s not pushed: %s", sms.message_id, exc)
                pushed = None
            if (pushed is not None and pushed.status == 200) or tries[sms.message_id] >= 5:
                del tries[sms.message_id]


@contextlib.asynccontextmanager
async def simulated_sms(
    store: Store,
    http: httpx.AsyncClient,
    api_base_url: str,
    tenant_id: str,
    provider: SmsProvider = "aliyun",
    *,
    report_delay: float = 1.0,
) -> AsyncIterator[SimulatedSmsAccount]:
    """Serve a fresh simulated account, connect `tenant_id`'s `sms` channel to it, and push
    delivery reports to `api_base_url` (where the API is reachable) until the context exits."""
    key_id, secret = f"sim-{secrets.token_hex(8)}", secrets.token_urlsafe(24)
    # The simulator's per-number limits would slow the demo down; keep them generous.
    sim = SmsSimulator(key_id, secret, sdk_app_id=SDK_APP_ID, per_phone_interval=0.0)
    async with sim.serve():
        base_url = sim.base_url(provider)
        settings = await SmsSettingsService(store, [base_url]).configure(
            tenant_id,
            SmsSettingsInput(
                provider=provider,
                access_key_id=key_id,
                secret=secret,
                sign_name=SIGN_NAME,
                sdk_app_id=SDK_APP_ID if provider == "tencent" else None,
                base_url=base_url,
            ),
        )
        callback_url = api_base_url.rstrip("/") + sms_callback_path(settings)
        driver = SmsDriver(http, callback_url)
        reporter = asyncio.create_task(_report_each(sim, driver, report_delay))
        try:
            yield SimulatedSmsAccount(tenant_id, provider, sim, driver, callback_url)
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
