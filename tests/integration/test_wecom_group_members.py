"""The connector's group member lookup (`groupchat/get`) against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from connectors.errors import PermanentChannelError
from connectors.wecom.client import WeComClient
from connectors.wecom.connector import WeComConnector
from connectors.wecom.simulator import WeComSimulator
from domain.channels import WeComCredentials, new_callback_id
from domain.wecom_events import GroupMember
from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX

SECRET = "group-members-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
async def rig(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> AsyncIterator[tuple[WeComSimulator, WeComConnector]]:
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    sim = WeComSimulator(corp_id="ww-groups", secret=SECRET)
    async with sim.serve() as base_url, httpx.AsyncClient() as http:
        await store.wecom_credentials.put(
            WeComCredentials(
                tenant_id="acme",
                corp_id=sim.corp_id,
                secret=SecretStr(SECRET),
                callback_token=SecretStr("token"),
                encoding_aes_key=SecretStr(AES_KEY),
                base_url=base_url,
                callback_id=new_callback_id(),
            )
        )
        connector = WeComConnector(
            WeComClient(http, store.wecom_credentials),
            store.wecom_allowances,
            store.wecom_transfers,
        )
        yield sim, connector


async def test_group_members_name_each_members_join_way_state(
    rig: tuple[WeComSimulator, WeComConnector],
) -> None:
    sim, connector = rig
    chat_id = sim.create_chat("zhangsan")
    code = await connector.create_join_way(
        "acme",
        state="h_spring_group",
        chat_ids=[chat_id],
        auto_create_room=False,
        room_base_name=None,
        room_base_id=None,
    )
    customer = sim.add_customer("zhangsan", "").external_userid
    joined_chat, _ = sim.join(customer, code.config_id)

    members = await connector.group_members("acme", joined_chat)

    assert joined_chat == chat_id
    [member] = [m for m in members if m.userid == customer]
    assert (member.type, member.state, member.join_scene) == (2, "h_spring_group", 3)
    assert isinstance(member, GroupMember) and member.join_time is not None


async def test_an_unknown_group_is_a_channel_error(
    rig: tuple[WeComSimulator, WeComConnector],
) -> None:
    _, connector = rig

    with pytest.raises(PermanentChannelError):
        await connector.group_members("acme", "wr-no-such-group")
