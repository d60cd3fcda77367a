"""A simulated WeCom corp for a tenant: the simulator, the tenant's connection to it, its codes.

`omnijourney run` (with `WECOM_SIMULATOR` on), the end-to-end test and the welcome benchmark use
it. The simulator runs in this process on 127.0.0.1 and keeps its state in memory, so each start
makes a fresh corp: the tenant's credentials are set again (new secrets, same callback URL, through
the service behind `configureWeCom`), and its codes are provisioned again through the connector:
a hook new to the tenant through the service behind `createHook`; a hook already on record (from
an earlier run) is made again in the new corp under the same `state`, and its record points at it.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from api.services.wecom import (
    HookService,
    WeComSettingsInput,
    WeComSettingsService,
    callback_path,
)
from connectors.wecom import WeComConnector
from connectors.wecom.simulator import WeComDriver, WeComSimulator
from domain.hooks import Hook, HookSpec
from domain.templates import DEFAULT_GROUP_OWNER, DEFAULT_HOOK
from store.database import Store

CORP_ID = "ww-simulated"
STAFF = DEFAULT_GROUP_OWNER
"""The staff member the channel code adds, and who owns the member groups."""
GROUP_STATE = "member-group"
GROUP_CHAT_ID = "wr-member-group-1"


@dataclass(frozen=True)
class SimulatedCorp:
    """A running simulated corp connected to `tenant_id`, with its two codes and a driver that
    plays customers and staff (its callbacks go to the tenant's callback URL)."""

    tenant_id: str
    sim: WeComSimulator
    driver: WeComDriver
    channel_code: Hook
    group_code: Hook
    callback_url: str


class WithoutSimulatorRequests(logging.Filter):
    """Drops access-log lines of the simulator's API: their URLs carry access tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any("/cgi-bin/" in str(arg) for arg in (record.args or ()))


def _aes_key() -> str:
    # 32 random bytes in base64 are 43 characters and one "=": WeCom's EncodingAESKey shape.
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


@contextlib.asynccontextmanager
async def simulated_wecom(
    store: Store,
    provisioner: WeComConnector,
    http: httpx.AsyncClient,
    api_base_url: str,
    tenant_id: str,
    *,
    hook_state: str = DEFAULT_HOOK,
) -> AsyncIterator[SimulatedCorp]:
    """Serve a fresh simulated corp, connect `tenant_id` to it and provision its channel code
    (`hook_state`, adding `STAFF`) and group live code (`GROUP_STATE`, one group owned by
    `STAFF`, a new one opened when full). `api_base_url` is where the API is reachable."""
    secret, token, aes_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24), _aes_key()
    sim = WeComSimulator(corp_id=CORP_ID, secret=secret)
    access_log, quiet = logging.getLogger("uvicorn.access"), WithoutSimulatorRequests()
    access_log.addFilter(quiet)
    async with contextlib.AsyncExitStack() as scope:
        scope.callback(access_log.removeFilter, quiet)
        base_url = await scope.enter_async_context(sim.serve())
        credentials = await WeComSettingsService(store, [base_url]).configure(
            tenant_id,
            WeComSettingsInput(
                corp_id=CORP_ID,
                secret=secret,
                callback_token=token,
                encoding_aes_key=aes_key,
                base_url=base_url,
            ),
        )
        hooks = HookService(store, provisioner)
        channel_code = await _provision(
            store,
            hooks,
            provisioner,
            tenant_id,
            HookSpec(name="Douyin ad (spring)", kind="contact_way", staff_users=[STAFF]),
            hook_state,
        )
        group_code = await _provision(
            store,
            hooks,
            provisioner,
            tenant_id,
            HookSpec(
                name="Member group",
                kind="join_way",
                chat_ids=[GROUP_CHAT_ID],
                auto_create_room=True,
                room_base_name="Members ",
                room_base_id=2,
            ),
            GROUP_STATE,
        )
        callback_url = api_base_url.rstrip("/") + callback_path(credentials.callback_id)
        driver = WeComDriver(
            sim, callback_url=callback_url, token=token, encoding_aes_key=aes_key, http=http
        )
        yield SimulatedCorp(tenant_id, sim, driver, channel_code, group_code, callback_url)


async def _provision(
    store: Store,
    hooks: HookService,
    provisioner: WeComConnector,
    tenant_id: str,
    spec: HookSpec,
    state: str,
) -> Hook:
    existing = await store.hooks.by_state(tenant_id, state)
    if existing is None:
        return await hooks.create(tenant_id, spec, state=state)
    if existing.kind == "contact_way":
        code = await provisioner.create_contact_way(
            tenant_id, state=state, users=list(existing.staff_users), remark=existing.remark
        )
    else:
        code = await provisioner.create_join_way(
            tenant_id,
            state=state,
            chat_ids=list(existing.chat_ids),
            auto_create_room=existing.auto_create_room,
            room_base_name=existing.room_base_name,
            room_base_id=existing.room_base_id,
        )
    changes = {"config_id": code.config_id, "qr_code": code.qr_code, "archived": False}
    return await store.hooks.update(tenant_id, existing.id, changes, datetime.now(UTC))
