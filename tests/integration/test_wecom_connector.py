"""The `wecom` connector against the simulator over real HTTP, with the real store's ledgers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from connectors.base import ActionRequest, CustomerContact
from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.wecom.client import WeComClient
from connectors.wecom.connector import WeComConnector
from connectors.wecom.simulator import WeComSimulator
from domain.channels import MassMessageLimit, WeComCredentials, new_callback_id
from domain.errors import InvalidInputError
from store.database import Store
from tests.fixtures.secrets import TEST_SECRET_BOX

SECRET = "s3cret-app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STAFF = "zhangsan"
WELCOME = "externalcontact/send_welcome_msg"


class Clock:
    """One hand-moved clock for the simulated corp and the connector."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 15, 2, 0, tzinfo=UTC).timestamp()

    def seconds(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class Rig:
    sim: WeComSimulator
    store: Store
    clock: Clock
    connector: WeComConnector
    base_url: str

    async def connect(self, limit: MassMessageLimit = "per_month") -> None:
        await self.store.wecom_credentials.put(
            WeComCredentials(
                tenant_id="acme",
                corp_id="ww-test",
                secret=SecretStr(SECRET),
                callback_token=SecretStr("callback-token"),
                encoding_aes_key=SecretStr(AES_KEY),
                base_url=self.base_url,
                callback_id=new_callback_id(),
                mass_message_limit=limit,
            )
        )

    def customer(self) -> str:
        return self.sim.add_customer(STAFF, "douyin-ad").external_userid

    def request(
        self,
        action: str,
        params: dict[str, Any],
        *,
        external_userid: str | None = None,
        key: str = "acme:e1:n1:1",
        trigger: dict[str, Any] | None = None,
    ) -> ActionRequest:
        identities = {"wecom_external_userid": external_userid} if external_userid else {}
        return ActionRequest(
            tenant_id="acme",
            enrollment_id="e1",
            node_id="n1",
            action=action,
            params=params,
            idempotency_key=key,
            customer=CustomerContact(
                customer_id="cus_1",
                identities=identities,
                attributes={"wecom_follow_user": STAFF},
            ),
            trigger=trigger,
        )

    def welcome_trigger(self, code: str | None, age: float = 1.0) -> dict[str, Any]:
        properties = {} if code is None else {"welcome_code": code}
        happened = self.clock.utc() - timedelta(seconds=age)
        return {
            "id": "ev1",
            "type": "wecom.contact_added",
            "timestamp": happened.isoformat(),
            "properties": properties,
        }

    def calls(self, path: str) -> int:
        return self.sim.calls.count(path)


@pytest.fixture
async def rig(mongo_db: AsyncDatabase[dict[str, Any]]) -> AsyncIterator[Rig]:
    store = Store(mongo_db, TEST_SECRET_BOX)
    await store.ensure_indexes()
    clock = Clock()
    sim = WeComSimulator(corp_id="ww-test", secret=SECRET, clock=clock.seconds)
    async with sim.serve() as base_url, httpx.AsyncClient() as http:
        client = WeComClient(http, store.wecom_credentials)
        connector = WeComConnector(
            client, store.wecom_allowances, store.wecom_transfers, clock=clock.utc
        )
        rig = Rig(sim, store, clock, connector, base_url)
        await rig.connect()
        yield rig


# -- welcome -------------------------------------------------------------------------------


async def welcome(rig: Rig, code: str | None, age: float = 1.0) -> None:
    await rig.connector.execute(
        rig.request(
            "welcome",
            {"text": "Welcome! Your coupon: https://example.com/c"},
            trigger=rig.welcome_trigger(code, age),
        )
    )


async def test_welcome_is_sent_with_the_code_inside_its_window(rig: Rig) -> None:
    customer = rig.customer()
    code = rig.sim.mint_welcome_code(customer, STAFF)

    await welcome(rig, code)

    assert [(w["external_userid"], w["text"]) for w in rig.sim.welcomes] == [
        (customer, "Welcome! Your coupon: https://example.com/c")
    ]


async def test_a_used_welcome_code_is_final(rig: Rig) -> None:
    code = rig.sim.mint_welcome_code(rig.customer(), STAFF)
    await welcome(rig, code)

    with pytest.raises(PermanentChannelError) as caught:
        await welcome(rig, code)

    assert caught.value.message == "welcome code already used"
    assert len(rig.sim.welcomes) == 1


async def test_another_app_sending_the_welcome_is_retried(rig: Rig) -> None:
    code = rig.sim.mint_welcome_code(rig.customer(), STAFF)
    rig.sim.fail_next(WELCOME, 41096)

    with pytest.raises(TransientChannelError):
        await welcome(rig, code)
    await welcome(rig, code)

    assert len(rig.sim.welcomes) == 1


async def test_an_expired_welcome_code_is_a_permanent_failure_with_a_clear_reason(
    rig: Rig,
) -> None:
    code = rig.sim.mint_welcome_code(rig.customer(), STAFF)
    rig.clock.now += 21  # WeCom's clock: the code has expired, though the event looks fresh

    with pytest.raises(PermanentChannelError) as caught:
        await welcome(rig, code)

    assert "welcome code expired (20 s window)" in caught.value.message
    assert rig.sim.welcomes == []


async def test_a_welcome_for_an_event_older_than_twenty_seconds_is_not_attempted(
    rig: Rig,
) -> None:
    code = rig.sim.mint_welcome_code(rig.customer(), STAFF)

    with pytest.raises(PermanentChannelError) as caught:
        await welcome(rig, code, age=25)

    assert caught.value.message.startswith("welcome code expired (20 s window)")
    assert rig.calls(WELCOME) == 0


async def test_a_welcome_without_a_code_is_a_permanent_failure(rig: Rig) -> None:
    with pytest.raises(PermanentChannelError) as caught:
        await welcome(rig, None)

    assert caught.value.message == (
        "no welcome code (console welcome set or customer chatted before)"
    )
    assert rig.calls(WELCOME) == 0


# -- mass messages -------------------------------------------------------------------------


async def mass_message(rig: Rig, customer: str, key: str, sender: str | None = None) -> Any:
    params: dict[str, Any] = {"text": "Member day tomorrow"}
    if sender:
        params["sender"] = sender
    return await rig.connector.execute(
        rig.request("mass_message", params, external_userid=customer, key=key)
    )


async def test_mass_message_issues_a_task_for_the_customer(rig: Rig) -> None:
    customer = rig.customer()

    outcome = await mass_message(rig, customer, "k1")

    task = rig.sim.msg_tasks[outcome.external_id]
    assert task["chat_type"] == "single" and task["sender"] == STAFF
    assert [row["external_userid"] for row in task["results"]] == [customer]
    assert outcome.detail["msgid"] == outcome.external_id


async def test_mass_message_is_refused_once_the_allowance_is_used(rig: Rig) -> None:
    await rig.connect(limit="per_day_1")
    customer = rig.customer()
    await mass_message(rig, customer, "k1")

    with pytest.raises(PermanentChannelError) as caught:
        await mass_message(rig, customer, "k2")

    assert caught.value.code == "wecom.allowance_exhausted"
    assert len(rig.sim.msg_tasks) == 1
    rig.clock.now += 86_400  # the next day brings a new allowance
    await mass_message(rig, customer, "k3")
    assert len(rig.sim.msg_tasks) == 2


async def test_a_retried_mass_message_does_not_use_more_allowance(rig: Rig) -> None:
    await rig.connect(limit="per_day_1")
    customer = rig.customer()
    rig.sim.fail_next("externalcontact/add_msg_template", -1)

    with pytest.raises(TransientChannelError):
        await mass_message(rig, customer, "k1")
    await mass_message(rig, customer, "k1")

    assert len(rig.sim.msg_tasks) == 1


async def test_a_retry_finds_the_task_whose_answer_was_lost_instead_of_issuing_another(
    rig: Rig,
) -> None:
    customer = rig.customer()
    other = rig.customer()
    await mass_message(rig, other, "k0")  # same text, same sender, another customer
    rig.sim.lose_answer_next("externalcontact/add_msg_template")

    with pytest.raises(TransientChannelError):
        await mass_message(rig, customer, "k1")  # WeCom created the task; the answer is lost
    rig.clock.now += 30
    outcome = await mass_message(rig, customer, "k1")

    mine = [
        msgid
        for msgid, task in rig.sim.msg_tasks.items()
        if customer in [row.get("external_userid") for row in task["results"]]
    ]
    assert mine == [outcome.external_id]
    assert len(rig.sim.msg_tasks) == 2
    assert rig.calls("externalcontact/add_msg_template") == 2


async def test_a_retry_whose_first_attempt_never_reached_wecom_issues_the_task(rig: Rig) -> None:
    customer = rig.customer()
    rig.sim.fail_next("externalcontact/add_msg_template", 503)

    with pytest.raises(TransientChannelError):
        await mass_message(rig, customer, "k1")
    outcome = await mass_message(rig, customer, "k1")

    assert list(rig.sim.msg_tasks) == [outcome.external_id]
    assert rig.calls("externalcontact/get_groupmsg_list_v2") == 1


async def test_a_customer_wecom_refuses_gets_the_allowance_back(rig: Rig) -> None:
    await rig.connect(limit="per_day_1")
    customer = rig.customer()

    with pytest.raises(PermanentChannelError) as caught:
        await mass_message(rig, customer, "k1", sender="lisi")  # not lisi's contact

    assert caught.value.code == "wecom.mass_message_refused"
    await mass_message(rig, customer, "k2")


async def test_group_message_issues_a_task_to_the_senders_groups(rig: Rig) -> None:
    chat = rig.sim.create_chat(owner=STAFF)

    outcome = await rig.connector.execute(
        rig.request("group_message", {"text": "Day 1 in the group", "sender": STAFF})
    )

    task = rig.sim.msg_tasks[str(outcome.external_id)]
    assert task["chat_type"] == "group"
    assert [row["chat_id"] for row in task["results"]] == [chat]


# -- tags, moments, transfers --------------------------------------------------------------


async def test_tag_marks_the_customer_for_their_staff_member(rig: Rig) -> None:
    customer = rig.customer()
    vip = rig.sim.add_corp_tag("vip")

    await rig.connector.execute(rig.request("tag", {"add_tag": [vip]}, external_userid=customer))

    assert rig.sim.tags[(STAFF, customer)] == {vip}


async def test_tag_without_an_external_userid_is_permanent(rig: Rig) -> None:
    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(rig.request("tag", {"add_tag": ["et1"]}))

    assert caught.value.code == "wecom.no_external_userid"


async def test_moment_creates_a_task(rig: Rig) -> None:
    outcome = await rig.connector.execute(
        rig.request("moment", {"text": "New season", "visible_range": {"user_list": [STAFF]}})
    )

    job = rig.sim.moments[str(outcome.external_id)]
    assert job["text"] == "New season"
    assert job["visible_range"] == {"sender_list": {"user_list": [STAFF], "department_list": []}}


async def test_a_third_transfer_within_ninety_days_is_refused(rig: Rig) -> None:
    customer = rig.customer()
    params = {"kind": "on_job", "handover_userid": STAFF, "takeover_userid": "lisi"}
    await rig.connector.execute(rig.request("transfer", params, external_userid=customer, key="t1"))
    await rig.connector.execute(rig.request("transfer", params, external_userid=customer, key="t2"))

    with pytest.raises(PermanentChannelError) as caught:
        await rig.connector.execute(
            rig.request("transfer", params, external_userid=customer, key="t3")
        )

    assert caught.value.code == "wecom.transfer_limit"
    assert rig.calls("externalcontact/transfer_customer") == 2
    # A retry of a transfer that was made answers from the record.
    await rig.connector.execute(rig.request("transfer", params, external_userid=customer, key="t2"))
    assert rig.calls("externalcontact/transfer_customer") == 2


# -- provisioning --------------------------------------------------------------------------


async def test_contact_way_is_created_updated_and_deleted(rig: Rig) -> None:
    code = await rig.connector.create_contact_way("acme", state="douyin-ad-spring", users=[STAFF])

    way = rig.sim.contact_ways[code.config_id]
    assert way["state"] == "douyin-ad-spring" and code.qr_code == way["qr_code"] != ""
    await rig.connector.update_contact_way("acme", code.config_id, users=[STAFF, "lisi"])
    assert rig.sim.contact_ways[code.config_id]["user"] == [STAFF, "lisi"]
    await rig.connector.delete_contact_way("acme", code.config_id)
    assert code.config_id not in rig.sim.contact_ways


async def test_join_way_comes_with_its_qr_code(rig: Rig) -> None:
    code = await rig.connector.create_join_way(
        "acme",
        state="onboarding",
        chat_ids=["wr-group-1"],
        auto_create_room=True,
        room_base_name="VIP",
        room_base_id=1,
    )

    assert code.qr_code == rig.sim.join_ways[code.config_id]["qr_code"] != ""
    await rig.connector.delete_join_way("acme", code.config_id)
    assert code.config_id not in rig.sim.join_ways


async def test_codes_that_wecom_would_refuse_are_refused_before_calling(rig: Rig) -> None:
    with pytest.raises(InvalidInputError):
        await rig.connector.create_contact_way("acme", state="s" * 31, users=[STAFF])
    with pytest.raises(InvalidInputError):
        await rig.connector.create_join_way(
            "acme",
            state="ok",
            chat_ids=[f"wr{i}" for i in range(6)],
            auto_create_room=False,
            room_base_name=None,
            room_base_id=None,
        )

    assert rig.calls("externalcontact/add_contact_way") == 0
    assert rig.calls("externalcontact/groupchat/add_join_way") == 0
