"""Fault injection: kill -9 the worker, the Temporal dev server and MongoDB mid-run; lose nothing.

    .venv/bin/python -m bench.faults [--count 1000] [--rate 8]

On a throw-away embedded stack (bench/fault_stack.py) with the API and a WeCom simulator in this
process and the worker as its own process, `count` customers walk a journey on two channels

    entry (event `fault.entry`) → webhook to receiver "crm"
        → wecom.mass_message (add_msg_template, single, to the customer's external_userid)
        → wait_for_event `fault.reply` (30 min) → exit `replied`

Each customer is a contact of the simulated corp's staff member, and the entry event carries
their `wecom_external_userid`. Entry events go through `POST /v1/events` at `rate` per second; each customer's reply is sent
once its enrollment waits for it. While they flow, one after the other: the worker is killed
with SIGKILL (inside a WeCom add_msg_template call: after the simulator created the task, before
it answers) and started again; then the Temporal dev server; then SecantusDB (both restarted
on the same port and data). The API answers `failed` (or errors) while MongoDB is down; such
events are sent again, as a client would; only `accepted` and `duplicate` answers count as taken.

Prints enrollments finished / started, events taken but lost (not stored, or stored and never
routed), duplicate deliveries per channel (webhook: an `Idempotency-Key` that reached the receiver
more than once; WeCom, which takes no key: a customer issued more than one mass-message task),
the webhook calls the killed worker had made but not recorded as done (read from `deliveries`
right after the kill: only those may be re-sent, once, after the restart; the receiver
de-duplicates on the key), and per fault how long it was down and how long after the kill
deliveries flowed again. WeCom gets no such excuse: a retry whose first attempt may have created
the task finds that task (get_groupmsg_list_v2) instead of issuing another.
tests/e2e/test_faults.py runs the same with 100 customers and asserts on the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from api.services.wecom import WeComSettingsInput, WeComSettingsService
from bench.fault_stack import Channel, FaultStack, Receiver, WeComChannel, WorkerProcess, stack_env
from domain.customers import EXTERNAL_USERID
from domain.journey import (
    ActionNode,
    Edge,
    EntryNode,
    EventTrigger,
    ExitNode,
    JourneyDefinition,
    WaitForEventNode,
)
from domain.tenants import Tenant
from ingestion.sweeps import Sweeps
from runtime.processes import free_port
from runtime.resources import Resources, open_resources
from runtime.serve import api_app, api_server
from runtime.settings import Settings

TENANT = "faults"
ENTRY, REPLY = "fault.entry", "fault.reply"
BATCH = 10
RECOVERY_INTERVAL = 1.0
RECOVERY_AGE = timedelta(seconds=2)
WORKER_FAULT = "worker (kill -9)"
RESUME_WAIT = 180.0
RECEIVER_LATENCY = 0.05
"""Seconds each channel takes to answer, so that a kill can land while a call is in flight."""
STAFF = "fault-staff"
"""The simulated corp's staff member whose contacts the customers are, and who sends."""
CORP_ID = "ww-faults"
WECOM_KILL_WAIT = 30.0
"""Seconds the worker fault waits for a WeCom call to land in before killing anyway."""
MONGODB_DOWN = 7.0
"""Longer than the clients' 5 s server selection timeout: calls fail while MongoDB is down."""


def journey(crm_url: str) -> JourneyDefinition:
    """entry → webhook (crm) → wecom.mass_message → wait for the reply → exit."""
    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry", trigger=EventTrigger(event_type=ENTRY)),
            ActionNode(id="crm", channel="webhook", action="post", params={"url": crm_url}),
            ActionNode(
                id="coupon",
                channel="wecom",
                action="mass_message",
                params={"text": "Your coupon is waiting", "sender": STAFF},
            ),
            WaitForEventNode(id="await", event_type=REPLY, timeout=timedelta(minutes=30)),
            ExitNode(id="done", reason="replied"),
            ExitNode(id="late", reason="no_reply"),
        ],
        edges=[
            Edge(source="entry", target="crm"),
            Edge(source="crm", target="coupon"),
            Edge(source="coupon", target="await"),
            Edge(source="await", target="done", label="matched"),
            Edge(source="await", target="late", label="timed_out"),
        ],
    )


@dataclass
class Fault:
    """One injected fault: when it was killed, back, and when deliveries flowed again."""

    name: str
    killed_at: float
    back_at: float = 0.0
    resumed_at: float | None = None

    @property
    def down(self) -> float:
        return self.back_at - self.killed_at

    @property
    def recovery(self) -> float | None:
        """Seconds from the kill until the first delivery after the restart."""
        return None if self.resumed_at is None else self.resumed_at - self.killed_at


@dataclass
class FaultReport:
    """What a run found; `ok` when every count the suite promises holds."""

    count: int
    started: int = 0
    finished: int = 0
    taken: int = 0
    not_stored: list[str] = field(default_factory=list)
    not_routed: list[str] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    resent: int = 0
    in_flight_at_kill: int = 0
    notes: list[str] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    failed_answers: int = 0
    elapsed: float = 0.0
    stuck: dict[str, int] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return len(self.not_stored) + len(self.not_routed)

    @property
    def ok(self) -> bool:
        return (
            self.finished == self.started == self.count
            and self.lost == 0
            and not self.duplicates
            and all(count == self.count for count in self.deliveries.values())
        )

    def duplicates_per_channel(self) -> dict[str, int]:
        """Deliveries beyond the first, per channel (`wecom`: tasks beyond a customer's first)."""
        out: dict[str, int] = dict.fromkeys(self.deliveries, 0)
        for key, times in self.duplicates.items():
            channel = key.split(":", 1)[0]
            out[channel] = out.get(channel, 0) + times - 1
        return out

    def lines(self) -> list[str]:
        out = [
            f"enrollments finished / started: {self.finished} / {self.started}"
            f" (of {self.count} customers)",
            f"events taken: {self.taken} ({self.failed_answers} answers `failed` or errors, sent "
            f"again); lost: {self.lost} (not stored {len(self.not_stored)}, never routed "
            f"{len(self.not_routed)})",
            f"duplicate deliveries: {sum(n - 1 for n in self.duplicates.values())}"
            f" ({len(self.duplicates)} keys; {self.duplicates_per_channel()} per channel);"
            f" deliveries per channel: {self.deliveries}",
            f"webhook calls re-sent with the same key after the worker was killed during the call:"
            f" {self.resent}"
            f" (of {self.in_flight_at_kill} calls the killed worker had not recorded as done)",
        ]
        for fault in self.faults:
            recovery = "-" if fault.recovery is None else f"{fault.recovery:.1f} s"
            out.append(
                f"  {fault.name:<22} down {fault.down:5.1f} s; deliveries again after {recovery}"
            )
        if self.stuck:
            out.append(f"not finished, by status/node: {self.stuck}")
        out.extend(self.notes)
        out.append(f"total {self.elapsed:.0f} s")
        return out


class EventClient:
    """Sends events through `POST /v1/events` until each is taken (`accepted`/`duplicate`)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.taken: dict[str, str] = {}  # event id → customer id
        self.failed_answers = 0

    async def send(self, events: list[dict[str, Any]]) -> None:
        pending = list(events)
        while pending:
            try:
                response = await self.http.post("/v1/events", json={"events": pending})
            except httpx.HTTPError:
                response = None
            if response is None or response.status_code != 202:
                self.failed_answers += 1
                await asyncio.sleep(0.5)
                continue
            again = []
            for sent, result in zip(pending, response.json()["results"], strict=True):
                if result["status"] in ("accepted", "duplicate"):
                    self.taken[sent["id"]] = result["customer_id"]
                elif result["status"] == "failed":
                    self.failed_answers += 1
                    again.append(sent)
                else:
                    raise AssertionError(f"event {sent['id']} was {result['status']}: {result}")
            pending = again
            if pending:
                await asyncio.sleep(0.5)


def _event(event_id: str, kind: str, n: int, external_userid: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "identity": {"external_id": f"c{n}", EXTERNAL_USERID: external_userid},
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": {"n": n},
    }


class FaultRun:
    """One run: entries, replies and faults concurrently, then the counts (`FaultReport`)."""

    def __init__(
        self,
        res: Resources,
        stack: FaultStack,
        worker: WorkerProcess,
        events: EventClient,
        receivers: list[Channel],
        contacts: list[str],
        count: int,
        rate: float,
        down: float,
    ) -> None:
        self.res, self.stack, self.worker, self.events = res, stack, worker, events
        self.receivers = receivers
        self.contacts = contacts  # customer n's external_userid
        self.count, self.rate, self.down = count, rate, down
        self.db = res.mongo[res.settings.mongodb_database]
        self.report = FaultReport(count)
        self.progress: Callable[[str], None] | None = None
        self._entered = 0
        self._entries_taken = asyncio.Condition()
        self._replied: set[str] = set()
        self.in_flight_at_kill: set[str] = set()

    async def entries(self) -> None:
        """Entry events at `rate` per second, `BATCH` at a time, a few batches in flight."""
        gate = asyncio.Semaphore(4)

        async def one(first: int) -> None:
            async with gate:
                batch = range(first, min(first + BATCH, self.count))
                await self.events.send(
                    [_event(f"entry-{n}", ENTRY, n, self.contacts[n]) for n in batch]
                )
                async with self._entries_taken:
                    self._entered += len(batch)
                    self._entries_taken.notify_all()

        sending = []
        for first in range(0, self.count, BATCH):
            sending.append(asyncio.create_task(one(first)))
            await asyncio.sleep(BATCH / self.rate)
        await asyncio.gather(*sending)

    async def replies(self, done: asyncio.Event) -> None:
        """Each customer's reply, once their enrollment waits for it."""
        enrollments = self.db["enrollments"]
        while not done.is_set():
            try:
                waiting = await enrollments.distinct(
                    "customer_id",
                    {"tenant_id": TENANT, "current_node": "await", "status": "active"},
                )
            except Exception:  # MongoDB is down: look again shortly
                waiting = []
            by_customer = {
                cid: eid for eid, cid in self.events.taken.items() if eid.startswith("entry-")
            }
            due = [
                int(by_customer[c].removeprefix("entry-"))
                for c in waiting
                if c not in self._replied and c in by_customer
            ]
            for first in range(0, len(due), BATCH):
                batch = due[first : first + BATCH]
                await self.events.send(
                    [_event(f"reply-{n}", REPLY, n, self.contacts[n]) for n in batch]
                )
                self._replied.update(self.events.taken[f"entry-{n}"] for n in batch)
            await asyncio.sleep(0.5)

    async def faults(self) -> None:
        """The three faults, each once a further part of the entries was taken."""
        plan: list[tuple[float, str, Callable[[], Awaitable[None]]]] = [
            (0.2, WORKER_FAULT, self._kill_worker),
            (0.45, "Temporal (kill -9)", self._kill_temporal),
            (0.7, "MongoDB (kill -9)", self._kill_mongodb),
        ]
        for share, name, kill in plan:
            async with self._entries_taken:
                await self._entries_taken.wait_for(partial(self._entered_at_least, share))
            fault = Fault(name, time.monotonic())
            self.report.faults.append(fault)
            await kill()
            fault.back_at = time.monotonic()
            give_up = fault.back_at + RESUME_WAIT
            while fault.resumed_at is None and time.monotonic() < give_up:
                if any(r.received_since(fault.back_at) for r in self.receivers):
                    fault.resumed_at = time.monotonic()
                elif all(len(r.keys) >= self.count for r in self.receivers):
                    break  # nothing left to deliver
                await asyncio.sleep(0.1)

    def _entered_at_least(self, share: float) -> bool:
        return self._entered >= share * self.count

    async def _kill_worker(self) -> None:
        wecom = next((r for r in self.receivers if isinstance(r, WeComChannel)), None)
        if wecom is None:
            self.worker.kill()
        else:
            # Killed inside the next add_msg_template, after WeCom created the task and before
            # it answers: the worst moment for a channel without idempotency keys.
            killed = asyncio.Event()

            def kill() -> None:
                self.worker.kill()
                # The fault starts now, not when it was armed: what came before is unexcused.
                self.report.faults[-1].killed_at = time.monotonic()
                killed.set()

            wecom.on_next_task = kill
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(killed.wait(), WECOM_KILL_WAIT)
            if not killed.is_set():
                wecom.on_next_task = None
                kill()
        # What the dead worker left unrecorded: only these may reach a receiver twice.
        undone = self.db["deliveries"].find(
            {"tenant_id": TENANT, "status": {"$ne": "succeeded"}}, {"idempotency_key": 1}
        )
        self.in_flight_at_kill = {doc["idempotency_key"] async for doc in undone}
        self.report.in_flight_at_kill = len(self.in_flight_at_kill)
        await asyncio.sleep(self.down)
        self.worker.start()

    # Restarted from the default executor's threads, which live as long as the loop: a server
    # dies with the thread that started it (runtime.processes).
    async def _kill_temporal(self) -> None:
        self.stack.temporal.kill()
        await asyncio.sleep(self.down)
        await asyncio.to_thread(self.stack.restart, self.stack.temporal)

    async def _kill_mongodb(self) -> None:
        self.stack.mongodb.kill()
        await asyncio.sleep(max(self.down, MONGODB_DOWN))
        await asyncio.to_thread(self.stack.restart, self.stack.mongodb)

    async def finished(self) -> int:
        return await self.db["enrollments"].count_documents(
            {"tenant_id": TENANT, "status": "exited", "exit_reason": "replied"}
        )

    async def run(self, deadline: float) -> FaultReport:
        started = time.monotonic()
        done = asyncio.Event()
        replies = asyncio.create_task(self.replies(done))
        watching = asyncio.create_task(self._watch(done))
        try:
            with contextlib.suppress(TimeoutError):  # counted below as unfinished
                await asyncio.wait_for(asyncio.gather(self.entries(), self.faults()), deadline)
            while time.monotonic() < started + deadline:
                with contextlib.suppress(Exception):
                    if await self.finished() >= self.count and await self._all_routed():
                        break
                await asyncio.sleep(0.5)
        finally:
            done.set()
            replies.cancel()  # a reply still being sent is not waited for
            await asyncio.gather(replies, watching, return_exceptions=True)
        self.report.elapsed = time.monotonic() - started
        await self._count()
        return self.report

    async def _watch(self, done: asyncio.Event, every: float = 5.0) -> None:
        started = time.monotonic()
        while self.progress is not None and not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), every)
            self.progress(f"{time.monotonic() - started:5.0f} s  {await self._snapshot()}")

    async def _snapshot(self) -> str:
        try:
            finished = await self.finished()
            unrouted = await self.db["events"].count_documents(
                {"tenant_id": TENANT, "routed_at": None}
            )
        except Exception as exc:
            return f"MongoDB unreachable: {type(exc).__name__}"
        received = {r.name: len(r.keys) for r in self.receivers}
        return (
            f"entered {self._entered}, replied {len(self._replied)}, finished {finished}, "
            f"unrouted {unrouted}, received {received}"
        )

    def _timing(self, what: str, arrivals: list[float]) -> str:
        """When `what` arrived, relative to the faults (seconds after each kill)."""
        faults = ", ".join(
            f"{f.name.split()[0]} killed {f.killed_at:.1f} back {f.back_at:.1f}"
            for f in self.report.faults
        )
        times = ", ".join(f"{at:.1f}" for at in arrivals)
        return f"  {what} arrived at {times} (monotonic; {faults})"

    async def _all_routed(self) -> bool:
        pending = {"tenant_id": TENANT, "routed_at": None}
        return await self.db["events"].count_documents(pending) == 0

    async def _count(self) -> None:
        report = self.report
        report.taken = len(self.events.taken)
        report.failed_answers = self.events.failed_answers
        enrollments = self.db["enrollments"]
        report.started = await enrollments.count_documents({"tenant_id": TENANT})
        report.finished = await self.finished()
        stuck = await enrollments.aggregate(
            [
                {"$match": {"tenant_id": TENANT, "exit_reason": {"$ne": "replied"}}},
                {"$group": {"_id": {"s": "$status", "n": "$current_node"}, "count": {"$sum": 1}}},
            ]
        )
        report.stuck = {f"{d['_id']['s']}/{d['_id']['n']}": d["count"] async for d in stuck}
        stored = {
            doc["event_id"]: doc.get("routed_at")
            async for doc in self.db["events"].find(
                {"tenant_id": TENANT}, {"event_id": 1, "routed_at": 1}
            )
        }
        for event_id in self.events.taken:
            if event_id not in stored:
                report.not_stored.append(event_id)
            elif stored[event_id] is None:
                report.not_routed.append(event_id)
        worker = next(f for f in report.faults if f.name == WORKER_FAULT)
        for receiver in self.receivers:
            for key, times in receiver.repeated().items():
                # A call the killed worker made but had not recorded as done when it died:
                # Temporal runs the activity again after its timeout, with the same key (the
                # receiver de-dupes). Any other repeat is a duplicate, and so is every repeat on
                # a channel without idempotency keys (WeCom: a second task for the customer).
                first, again = times[0], times[-1]
                in_flight = key in self.in_flight_at_kill and first < worker.killed_at
                excusable = receiver.dedupes and len(times) == 2
                if excusable and in_flight and worker.back_at < again:
                    report.resent += 1
                else:
                    report.duplicates[f"{receiver.name}:{key}"] = len(times)
                    report.notes.append(self._timing(f"{receiver.name} {key}", times))
        report.deliveries = {r.name: len(r.keys) for r in self.receivers}


async def run_faults(
    count: int,
    root: Path,
    *,
    rate: float = 8.0,
    down: float = 2.0,
    deadline: float = 900.0,
    progress: Callable[[str], None] | None = None,
) -> FaultReport:
    """The fault run on a fresh stack under `root` (see the module docstring)."""
    wecom = WeComChannel(CORP_ID, secrets.token_urlsafe(24), RECEIVER_LATENCY)
    contacts = [wecom.add_customer(STAFF, "faults").external_userid for _ in range(count)]
    with Receiver("crm", RECEIVER_LATENCY) as crm, FaultStack(root) as stack:
        env = stack_env(stack, [crm])
        settings = Settings.model_validate(
            {
                **{name.lower(): value for name, value in env.items()},
                "data_dir": root,
                "api_port": free_port(),
                # The API logs every failed store or route during the outages; the counts say it.
                "log_level": "CRITICAL",
            }
        )
        async with (
            open_resources(settings, stack.mongodb_uri, stack.temporal_address) as res,
            wecom.serve() as wecom_url,
        ):
            now = datetime.now(UTC)
            await res.store.tenants.create(Tenant(id=TENANT, name="Faults", created_at=now))
            await connect_wecom(res, wecom, wecom_url)
            _, key = await res.store.tenants.create_api_key(TENANT, "faults", "operator", now)
            definition = journey(crm.url)
            created = await res.store.journeys.create(TENANT, "faults", now, draft=definition)
            await res.store.journeys.publish(
                TENANT, created.id, definition, definition.listened_event_types(), now
            )

            app = api_app(res)
            server = api_server(app, res, access_log=False)
            serving = asyncio.create_task(server.serve())
            worker = WorkerProcess(env, root / "logs" / "worker.log")
            try:
                while not server.started:
                    if serving.done():
                        await serving
                    await asyncio.sleep(0.05)
                # Events whose routing failed (Temporal down) are routed by the sweep, soon.
                ingest = app.state.services.ingest
                recovery = Sweeps([("unrouted events", partial(ingest.recover, RECOVERY_AGE))])
                recovery.start(RECOVERY_INTERVAL)
                worker.start()
                async with httpx.AsyncClient(
                    base_url=settings.local_base_url,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=120,
                ) as http:
                    run = FaultRun(
                        res,
                        stack,
                        worker,
                        EventClient(http),
                        [crm, wecom],
                        contacts,
                        count,
                        rate,
                        down,
                    )
                    run.progress = progress
                    return await run.run(deadline)
            finally:
                worker.stop()
                await recovery.stop()
                await app.state.services.ingest.drain()
                server.should_exit = True
                await asyncio.gather(serving, return_exceptions=True)


async def connect_wecom(res: Resources, wecom: WeComChannel, base_url: str) -> None:
    """Connect the tenant to the simulated corp, as `configureWeCom` does."""
    await WeComSettingsService(res.store, [base_url]).configure(
        TENANT,
        WeComSettingsInput(
            corp_id=CORP_ID,
            secret=wecom.secret,
            callback_token=secrets.token_urlsafe(24),
            # 32 random bytes in base64 without its "=": WeCom's 43-character EncodingAESKey.
            encoding_aes_key=base64.b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            base_url=base_url,
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=8.0, help="entry events per second")
    parser.add_argument("--down", type=float, default=2.0, help="seconds each part stays dead")
    parser.add_argument("--progress", action="store_true", help="a progress line every 5 s")
    parser.add_argument("--keep", type=Path, help="keep data and logs in this (new) directory")
    args = parser.parse_args()
    progress = partial(print, flush=True) if args.progress else None
    logging.basicConfig(level=logging.CRITICAL)
    with contextlib.ExitStack() as scope:
        root = args.keep or Path(
            scope.enter_context(tempfile.TemporaryDirectory(prefix="omnijourney-faults-"))
        )
        report = asyncio.run(
            run_faults(args.count, root, rate=args.rate, down=args.down, progress=progress)
        )
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
