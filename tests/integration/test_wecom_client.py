"""The WeCom client against the simulator over real HTTP: tokens, retries, errcode mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.wecom.client import WeComApiError, WeComClient
from connectors.wecom.simulator import WeComSimulator
from domain.channels import WeComCredentials, new_callback_id
from runtime.processes import free_port
from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX

SECRET = "s3cret-app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TAG_LIST = "externalcontact/get_corp_tag_list"


class ClientClock:
    """The client's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    sim: WeComSimulator
    store: Store
    http: httpx.AsyncClient
    clock: ClientClock
    base_url: str

    def client(self, **options: Any) -> WeComClient:
        return WeComClient(self.http, self.store.wecom_credentials, clock=self.clock, **options)

    async def connect(self, tenant: str = "acme", secret: str = SECRET, **changes: Any) -> None:
        data: dict[str, Any] = {
            "tenant_id": tenant,
            "corp_id": "ww-test",
            "secret": SecretStr(secret),
            "callback_token": SecretStr("callback-token"),
            "encoding_aes_key": SecretStr(AES_KEY),
            "base_url": self.base_url,
            "callback_id": new_callback_id(),
        }
        data.update(changes)
        await self.store.wecom_credentials.put(WeComCredentials(**data))

    def count(self, path: str) -> int:
        return self.sim.calls.count(path)


@pytest.fixture
async def rig(mongo_db: AsyncDatabase[dict[str, Any]]) -> AsyncIterator[Rig]:
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    sim = WeComSimulator(corp_id="ww-test", secret=SECRET)
    async with sim.serve() as base_url, httpx.AsyncClient() as http:
        rig = Rig(sim, store, http, ClientClock(), base_url)
        await rig.connect()
        yield rig


def issued_tokens(sim: WeComSimulator) -> list[str]:
    return list(sim.tokens)


async def test_the_token_is_fetched_once_and_reused_across_calls(rig: Rig) -> None:
    client = rig.client()

    for _ in range(3):
        await client.call("acme", TAG_LIST, {})

    assert rig.count("gettoken") == 1
    assert rig.count(TAG_LIST) == 3


async def test_twenty_concurrent_callers_share_one_refresh_after_expiry(rig: Rig) -> None:
    client = rig.client()
    await client.call("acme", TAG_LIST, {})
    rig.clock.now += 7200  # past the token's life, margin included

    await asyncio.gather(*(client.call("acme", TAG_LIST, {}) for _ in range(20)))

    assert rig.count("gettoken") == 2
    assert rig.count(TAG_LIST) == 21


async def test_twenty_callers_refused_an_expired_token_share_one_refresh(rig: Rig) -> None:
    client = rig.client()
    await client.call("acme", TAG_LIST, {})
    rig.sim.expire_tokens()  # WeCom expired it early: the client learns it from 42001

    answers = await asyncio.gather(*(client.call("acme", TAG_LIST, {}) for _ in range(20)))

    assert rig.count("gettoken") == 2
    assert [answer["errcode"] for answer in answers] == [0] * 20


async def test_an_expired_token_is_refreshed_and_the_call_retried_once(rig: Rig) -> None:
    client = rig.client()
    await client.call("acme", TAG_LIST, {})
    rig.sim.expire_tokens()

    answer = await client.call("acme", TAG_LIST, {})

    assert answer["errcode"] == 0
    assert rig.sim.calls == ["gettoken", TAG_LIST, TAG_LIST, "gettoken", TAG_LIST]


async def test_a_refreshed_token_refused_again_is_transient_and_not_retried_further(
    rig: Rig,
) -> None:
    client = rig.client()
    await client.call("acme", TAG_LIST, {})
    rig.sim.expire_tokens()
    rig.sim.token_ttl = 0.0  # every token WeCom issues from now on is born expired

    with pytest.raises(TransientChannelError):
        await client.call("acme", TAG_LIST, {})

    assert rig.count("gettoken") == 2
    assert rig.count(TAG_LIST) == 3


async def test_frequency_limit_is_transient_with_a_minute_delay(rig: Rig) -> None:
    client = rig.client()
    rig.sim.per_minute = 1
    await client.call("acme", TAG_LIST, {})

    with pytest.raises(TransientChannelError) as caught:
        await client.call("acme", TAG_LIST, {})

    assert caught.value.retry_after == 60
    # WeCom blocks the API for the window: the client stops calling it meanwhile.
    with pytest.raises(TransientChannelError):
        await client.call("acme", TAG_LIST, {})
    assert rig.count(TAG_LIST) == 2
    rig.clock.now += 61
    rig.sim.per_minute = 10_000
    await client.call("acme", TAG_LIST, {})


async def test_system_busy_is_transient(rig: Rig) -> None:
    rig.sim.fail_next(TAG_LIST, -1)

    with pytest.raises(TransientChannelError) as caught:
        await rig.client().call("acme", TAG_LIST, {})

    assert "errcode -1" in caught.value.message


async def test_a_server_error_is_transient(rig: Rig) -> None:
    rig.sim.fail_next(TAG_LIST, 502)

    with pytest.raises(TransientChannelError):
        await rig.client().call("acme", TAG_LIST, {})


async def test_a_wrong_secret_is_permanent_and_never_quoted(rig: Rig) -> None:
    await rig.connect(secret="not-the-right-secret")

    with pytest.raises(PermanentChannelError) as caught:
        await rig.client().call("acme", TAG_LIST, {})

    assert caught.value.code == "wecom.40001"
    assert "not-the-right-secret" not in str(caught.value)
    assert "not-the-right-secret" not in repr(caught.value)


async def test_other_errcodes_are_permanent_with_wecoms_number(rig: Rig) -> None:
    with pytest.raises(WeComApiError) as caught:
        await rig.client().call(
            "acme",
            "externalcontact/mark_tag",
            {"userid": "nobody", "external_userid": "wm-nobody", "add_tag": ["et1"]},
        )

    assert caught.value.code == "wecom.84061"
    assert caught.value.errcode == 84061


async def test_errors_never_show_the_access_token(rig: Rig) -> None:
    client = rig.client()
    await client.call("acme", TAG_LIST, {})
    (token,) = issued_tokens(rig.sim)

    with pytest.raises(WeComApiError) as caught:
        await client.call("acme", "externalcontact/send_welcome_msg", {"welcome_code": "nope"})

    assert token not in str(caught.value) and token not in repr(caught.value)


async def test_an_unreachable_server_is_transient_without_secrets(rig: Rig) -> None:
    await rig.connect(base_url=f"http://127.0.0.1:{free_port()}/cgi-bin/")

    with pytest.raises(TransientChannelError) as caught:
        await rig.client().call("acme", TAG_LIST, {})

    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_a_tenant_without_wecom_gets_a_permanent_error(rig: Rig) -> None:
    with pytest.raises(PermanentChannelError) as caught:
        await rig.client().call("nobody", TAG_LIST, {})

    assert caught.value.code == "wecom.not_configured"


async def test_the_client_keeps_under_the_frequency_limit_itself(rig: Rig) -> None:
    client = rig.client(per_minute=2, max_rate_wait=0.0)
    await client.call("acme", TAG_LIST, {})
    await client.call("acme", TAG_LIST, {})

    with pytest.raises(TransientChannelError) as caught:
        await client.call("acme", TAG_LIST, {})

    assert caught.value.retry_after is not None
    assert rig.count(TAG_LIST) == 2
