"""Mass-message results polled from the WeCom simulator (over HTTP on 127.0.0.1) become one event
per customer; tasks are asked about only when due, and polling ends when nothing more can come."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from connectors.wecom.client import WeComClient
from connectors.wecom.simulator import WeComSimulator
from domain.channels import WeComCredentials, new_callback_id
from domain.deliveries import Delivery
from ingestion.service import IngestService
from runtime.wecom_results import SEND_RESULT_PATH, MassMessageResultPoller
from store.database import Store

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STAFF = "zhangsan"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def simulator() -> AsyncIterator[WeComSimulator]:
    sim = WeComSimulator(corp_id="ww-results", secret="app-secret")
    async with sim.serve():
        yield sim


@pytest.fixture
async def client(store: Store, simulator: WeComSimulator) -> AsyncIterator[WeComClient]:
    async with httpx.AsyncClient() as http:
        yield WeComClient(http, store.wecom_credentials)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Task:
    tenant_id: str
    key: str
    msgid: str
    external: str


@pytest.fixture
def tenant_id() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def connected(store: Store, simulator: WeComSimulator, tenant_id: str) -> str:
    assert simulator.base_url is not None
    await store.wecom_credentials.put(
        WeComCredentials(
            tenant_id=tenant_id,
            corp_id=simulator.corp_id,
            secret=SecretStr("app-secret"),
            callback_token=SecretStr("token"),
            encoding_aes_key=SecretStr(AES_KEY),
            base_url=simulator.base_url,
            callback_id=new_callback_id(),
        )
    )
    return tenant_id


@dataclass
class Rig:
    """One connected tenant, its WeCom simulator and a hand-driven clock for the poller."""

    store: Store
    client: WeComClient
    simulator: WeComSimulator
    temporal_env: WorkflowEnvironment
    tenant_id: str
    clock: Clock = field(default_factory=Clock)

    async def issued_task(self, issued: datetime, msgid: str | None = None) -> Task:
        """A customer, a mass-message task for them (or the given msgid, unknown to WeCom), and
        its succeeded delivery."""
        external = self.simulator.add_customer(STAFF, "").external_userid
        if msgid is None:
            answer = await self.client.call(
                self.tenant_id,
                "externalcontact/add_msg_template",
                {
                    "chat_type": "single",
                    "external_userid": [external],
                    "sender": STAFF,
                    "text": {"content": "member day"},
                },
            )
            msgid = str(answer["msgid"])
        key = f"enr-{uuid.uuid4().hex[:6]}/touch/1"
        await self.store.deliveries.begin(
            Delivery(
                tenant_id=self.tenant_id,
                idempotency_key=key,
                enrollment_id="enr",
                customer_id="cus",
                journey_id="jrn",
                node_id="touch",
                channel="wecom",
                action="mass_message",
                created_at=issued,
                updated_at=issued,
            )
        )
        await self.store.deliveries.mark_succeeded(
            self.tenant_id, key, issued, external_id=msgid, detail={"msgid": msgid, "sender": STAFF}
        )
        return Task(self.tenant_id, key, msgid, external)

    def poller(self, **options: Any) -> MassMessageResultPoller:
        ingest = IngestService(self.store, self.temporal_env.client)
        return MassMessageResultPoller(self.store, self.client, ingest, clock=self.clock, **options)

    def asked(self) -> int:
        return self.simulator.calls.count(SEND_RESULT_PATH)

    async def result_events(self) -> list[dict[str, Any]]:
        found = self.store.db["events"].find(
            {"tenant_id": self.tenant_id, "type": "wecom.mass_message.result"}
        )
        return [doc async for doc in found]

    async def poll_state(self, task: Task) -> dict[str, Any]:
        delivery = await self.store.deliveries.get(task.tenant_id, task.key)
        assert delivery is not None
        state: dict[str, Any] = delivery.detail["result_poll"]
        return state


@pytest.fixture
def rig(
    store: Store,
    client: WeComClient,
    simulator: WeComSimulator,
    temporal_env: WorkflowEnvironment,
    connected: str,
) -> Rig:
    return Rig(store, client, simulator, temporal_env, connected)


async def test_a_confirmed_task_yields_one_sent_result_per_customer(rig: Rig) -> None:
    task = await rig.issued_task(NOW)
    results = rig.poller()

    assert await results.poll_once() == 0  # not confirmed yet: no final status
    rig.simulator.confirm(task.msgid, STAFF)
    rig.clock.advance(seconds=31)
    first = await results.poll_once()
    rig.clock.advance(seconds=31)
    again = await results.poll_once()

    assert (first, again) == (1, 0)
    assert rig.asked() == 2  # every customer had a result: the task is done
    assert (await rig.poll_state(task))["state"] == "done"
    [event] = await rig.result_events()
    assert event["identity"] == {"wecom_external_userid": task.external}
    assert event["properties"]["msgid"] == task.msgid
    assert event["properties"]["status"] == "sent"
    assert event["properties"]["node_id"] == "touch"


async def test_a_task_nobody_confirms_ends_as_not_sent_once_it_ages_out(rig: Rig) -> None:
    task = await rig.issued_task(NOW - timedelta(days=3, minutes=5))
    results = rig.poller(max_age=timedelta(days=3))

    assert await results.poll_once() == 1
    rig.clock.advance(hours=3)
    assert await results.poll_once() == 0

    [event] = await rig.result_events()
    assert event["properties"]["status"] == "not_sent"
    assert rig.asked() == 1
    assert (await rig.poll_state(task))["state"] == "done"


async def test_a_task_wecom_refuses_to_report_on_is_recorded_failed_once_and_not_asked_again(
    rig: Rig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = await rig.issued_task(NOW, msgid="msg-unknown")
    results = rig.poller()

    with caplog.at_level(logging.WARNING, logger="runtime.wecom_results"):
        for _ in range(3):
            assert await results.poll_once() == 0
            rig.clock.advance(minutes=10)

    assert rig.asked() == 1
    state = await rig.poll_state(task)
    assert state["state"] == "failed"
    assert "invalid msgid" in state["error"]
    giving_up = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert len(giving_up) == 1


async def test_transient_failures_back_off_and_hold_back_the_tenants_other_tasks(rig: Rig) -> None:
    first = await rig.issued_task(NOW - timedelta(seconds=2))
    await rig.issued_task(NOW - timedelta(seconds=1))
    rig.simulator.confirm(first.msgid, STAFF)
    rig.simulator.fail_next(SEND_RESULT_PATH, -1)  # WeCom's "system busy"
    results = rig.poller()

    assert await results.poll_once() == 0
    assert rig.asked() == 1  # the other task waits for the next round
    rig.clock.advance(seconds=1)
    assert await results.poll_once() == 0  # only the other task is due; it has no result yet
    assert rig.asked() == 2
    rig.simulator.fail_next(SEND_RESULT_PATH, -1)
    rig.clock.advance(seconds=30)  # the first task's 30 s back-off is over: busy again
    assert await results.poll_once() == 0
    assert rig.asked() == 3
    assert (await rig.poll_state(first))["failures"] == 2
    rig.clock.advance(seconds=40)  # within the doubled back-off (60 s): the first task waits
    await results.poll_once()
    assert rig.asked() == 4  # the other task, held back last round
    rig.clock.advance(seconds=25)
    assert await results.poll_once() == 1

    [event] = await rig.result_events()
    assert event["properties"]["msgid"] == first.msgid
    assert (await rig.poll_state(first))["state"] == "done"


async def test_older_tasks_are_asked_about_less_often(rig: Rig) -> None:
    await rig.issued_task(NOW - timedelta(hours=1))
    await rig.issued_task(NOW - timedelta(minutes=1))
    results = rig.poller()

    await results.poll_once()
    assert rig.asked() == 2
    rig.clock.advance(seconds=31)
    await results.poll_once()
    assert rig.asked() == 3  # the fresh task only
    rig.clock.advance(minutes=4)
    await results.poll_once()
    assert rig.asked() == 4  # the fresh task again; the hour-old one waits 5 minutes
    rig.clock.advance(seconds=30)
    await results.poll_once()
    assert rig.asked() == 6


async def test_a_round_asks_about_at_most_its_cap_of_tasks_never_polled_ones_first(
    rig: Rig,
) -> None:
    for minutes in (3, 2, 1):
        await rig.issued_task(NOW - timedelta(minutes=minutes))
    results = rig.poller(max_per_round=2)

    await results.poll_once()
    assert rig.asked() == 2
    await results.poll_once()
    assert rig.asked() == 3
    await results.poll_once()
    assert rig.asked() == 3  # nothing due until the 30 s interval has passed


async def test_a_fast_poller_asks_about_young_tasks_every_round(rig: Rig) -> None:
    await rig.issued_task(NOW - timedelta(minutes=1))
    results = rig.poller(interval=0.5)

    await results.poll_once()
    rig.clock.advance(seconds=1)
    await results.poll_once()

    assert rig.asked() == 2  # journeys wait for these results with a timeout


async def test_two_worker_processes_pollers_ask_about_a_due_task_once(rig: Rig) -> None:
    # Every worker replica runs a poller over the same deliveries: one asks, the other skips.
    task = await rig.issued_task(NOW)
    rig.simulator.confirm(task.msgid, STAFF)
    first, second = rig.poller(), rig.poller()

    stored = await asyncio.gather(first.poll_once(), second.poll_once())

    assert sorted(stored) == [0, 1]
    assert rig.asked() == 1
    assert len(await rig.result_events()) == 1
    assert (await rig.poll_state(task))["state"] == "done"
