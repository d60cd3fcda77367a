"""The demo: customers and staff play the canonical journey on the simulated WeCom corp.

`omnijourney run --demo` (and `omnijourney demo`, the same) runs it inside the `run` process,
because that is where the simulator lives: scanning a code, joining a group and confirming a
mass-message task are things people do in WeCom's apps, not calls its API offers, so the player
needs the simulator object itself. Everything on the brand's side still goes through the public
interfaces: WeCom's encrypted callbacks to the tenant's callback URL, `order.paid` through
`POST /v1/events` with the demo API key, and progress read back with GraphQL.

Each customer follows a script (seconds after their scan); the staff member confirms pending
mass-message tasks every `CONFIRM_EVERY` seconds. In the demo journey one day lasts two seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from domain.customers import EXTERNAL_USERID
from domain.events import ORDER_PAID
from runtime.simulated_wecom import SimulatedCorp

Step = Literal["join", "pay", "delete"]

CONFIRM_EVERY = 2.0
REPORT_EVERY = 10.0
NAMES = ["lin", "wang", "zhao", "chen", "liu", "sun", "zhou", "wu", "zheng", "feng"]
# Demo timing: group invitation ~1 s after the scan, reminder ~5 s, day-1 group message ~1 s
# after joining, day-3 coupon ~3 s later, member day ~7 s after the coupon's result.
SCRIPTS: list[list[tuple[float, Step]]] = [
    [(2, "join"), (12, "pay"), (62, "pay")],  # onboarded, buys, buys again: the repurchase loop
    [(2, "join")],  # onboarded, never buys: not_converted
    [],  # never joins the group: reminded once, then not_onboarded
    [(3, "delete")],  # deletes the staff member: exits
    [(1, "pay")],  # buys at once: converted before onboarding
    [(7, "join"), (14, "pay")],  # joins after the reminder, buys after the coupon
]
ENROLLMENTS_QUERY = """
query Demo($journeyId: ID!) {
  enrollments(filter: {journeyId: $journeyId}, first: 100) {
    nodes {
      status currentNode exitReason converted wait { kind eventType }
      customer { identities { kind value } }
    }
  }
}
"""

log = logging.getLogger(__name__)


@dataclass
class Actor:
    """One demo customer: who they are on WeCom and what they will do."""

    name: str
    script: list[tuple[float, Step]]
    phone: str = ""
    external_userid: str = ""
    scanned_at: float = 0.0
    welcomed: bool = False


@dataclass
class DemoPlayer:
    """Plays customers and staff on `corp`; `api` reaches the API with the tenant's key."""

    corp: SimulatedCorp
    api: httpx.AsyncClient
    journey_id: str
    say: Callable[[str], None] = print
    cast: list[Actor] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def _line(self, text: str) -> None:
        self.say(f"  +{time.monotonic() - self.started:5.1f}s  {text}")

    async def scan(self, actor: Actor) -> None:
        """The customer scans the channel code (WeCom sends the encrypted add callback)."""
        # The staff member notes the customer's phone on the contact: the SMS steps go there.
        added = await self.corp.driver.add_customer(
            state=self.corp.channel_code.state, name=actor.name, mobile=actor.phone
        )
        actor.external_userid, actor.scanned_at = added.external_userid, time.time()
        self._line(
            f"{actor.name} scans the '{added.state}' code and adds {added.staff} "
            f"(callback answered {added.status})"
        )

    async def act(self, actor: Actor, step: Step) -> None:
        """One scripted step of a customer."""
        driver = self.corp.driver
        if step == "join":
            chat_id = await driver.join_group(actor.external_userid, self.corp.group_code.config_id)
            self._line(f"{actor.name} joins the member group {chat_id} through the live code")
        elif step == "delete":
            staff = self.corp.channel_code.staff_users[0]
            await driver.customer_deletes_staff(actor.external_userid, staff)
            self._line(f"{actor.name} deletes the staff member")
        else:
            await self.pay(actor)

    async def pay(self, actor: Actor, total: int = 98) -> None:
        """The shop reports an order (`POST /v1/events`)."""
        event = {
            "id": f"demo-order-{uuid.uuid4().hex}",
            "type": ORDER_PAID,
            "identity": {EXTERNAL_USERID: actor.external_userid},
            "timestamp": datetime.now(UTC).isoformat(),
            "properties": {"total": total},
        }
        response = await self.api.post("/v1/events", json={"events": [event]})
        if response.status_code != 202:
            raise RuntimeError(f"/v1/events answered {response.status_code}: {response.text}")
        self._line(f"{actor.name} pays ¥{total} (order.paid)")

    def note_welcomes(self) -> None:
        """Print each customer's welcome once the simulator has received it."""
        sent = {w["external_userid"]: w for w in self.corp.sim.welcomes}
        for actor in self.cast:
            welcome = sent.get(actor.external_userid)
            if welcome is not None and not actor.welcomed:
                actor.welcomed = True
                after = float(welcome["sent_at"]) - actor.scanned_at
                self._line(f"{actor.name} is welcomed {max(after, 0.0):.2f} s after the scan")

    async def confirm_tasks(self) -> int:
        """The staff confirm every pending mass-message task in the WeCom app."""
        names = {actor.external_userid: actor.name for actor in self.cast}
        confirmed = 0
        for msgid, task in list(self.corp.sim.msg_tasks.items()):
            for userid, part in list(task["tasks"].items()):
                if part["status"] != 0:
                    continue
                rows = await self.corp.driver.confirm_mass_message(msgid, userid)
                confirmed += 1
                whom = ", ".join(
                    f"{names.get(str(row.get('external_userid')), row.get('chat_id'))}: "
                    f"{_STATUS.get(int(str(row.get('status', 0))), '?')}"
                    for row in rows
                )
                text = str(task["text"])[:40]
                self._line(f"{userid} confirms the task “{text}…” → {whom or 'no recipients'}")
        return confirmed

    async def report(self) -> None:
        """Where each demo customer's enrollment stands, read through GraphQL."""
        response = await self.api.post(
            "/graphql",
            json={"query": ENROLLMENTS_QUERY, "variables": {"journeyId": self.journey_id}},
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors']}")
        names = {actor.external_userid: actor.name for actor in self.cast}
        lines = []
        for enrollment in body["data"]["enrollments"]["nodes"]:
            identities = (enrollment.get("customer") or {}).get("identities") or []
            name = next((names[i["value"]] for i in identities if i["value"] in names), None)
            if name is not None:
                lines.append(f"      {name:<6} {_describe(enrollment)}")
        self._line("enrollments (GraphQL):\n" + "\n".join(sorted(lines)))

    async def play(self, customers: int, seconds: float) -> None:
        """Scan a customer a second, run their scripts, confirm tasks and report, for `seconds`."""
        self.cast = [
            Actor(_name(n), SCRIPTS[n % len(SCRIPTS)], phone=f"1380000{n:04d}")
            for n in range(customers)
        ]
        self.started = time.monotonic()
        agenda: list[tuple[float, int, Step | None]] = [
            (float(n), n, None) for n in range(len(self.cast))
        ]
        agenda += [(n + at, n, step) for n, a in enumerate(self.cast) for at, step in a.script]
        agenda.sort(key=lambda item: item[0])
        next_confirm, next_report = CONFIRM_EVERY, REPORT_EVERY
        while (elapsed := time.monotonic() - self.started) < seconds:
            while agenda and agenda[0][0] <= elapsed:
                _, n, step = agenda.pop(0)
                if step is None:
                    await self.scan(self.cast[n])
                else:
                    await self.act(self.cast[n], step)
            self.note_welcomes()
            if elapsed >= next_confirm:
                await self.confirm_tasks()
                next_confirm = elapsed + CONFIRM_EVERY
            if elapsed >= next_report:
                await self.report()
                next_report = elapsed + REPORT_EVERY
            await asyncio.sleep(0.2)
        self.note_welcomes()
        await self.report()
        welcomed = sum(actor.welcomed for actor in self.cast)
        self.say(
            f"demo done: {welcomed}/{len(self.cast)} customers welcomed; every step is in "
            "GraphiQL (enrollments, customers' timelines, deliveries) and the Temporal UI"
        )


def _name(n: int) -> str:
    rounds, index = divmod(n, len(NAMES))
    return NAMES[index] + (str(rounds + 1) if rounds else "")


_STATUS = {0: "not sent", 1: "sent", 2: "not a friend", 3: "limit reached"}


def _describe(enrollment: dict[str, Any]) -> str:
    status = str(enrollment["status"]).lower()
    converted = ", converted" if enrollment["converted"] else ""
    if status in ("active", "paused"):
        wait = enrollment.get("wait") or {}
        waiting = f" (waiting for {wait.get('eventType') or wait.get('kind')})" if wait else ""
        return f"{status} at {enrollment['currentNode']}{waiting}{converted}"
    return f"{status}: {enrollment['exitReason'] or enrollment['currentNode']}{converted}"


async def play(
    corp: SimulatedCorp,
    api_base_url: str,
    api_key: str,
    journey_id: str,
    *,
    customers: int = 6,
    seconds: float = 90.0,
) -> None:
    """Play `customers` through the demo journey for `seconds` (the stack keeps running)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_base_url, headers=headers, timeout=10) as api:
        print(
            f"demo: {customers} customers scan the '{corp.channel_code.state}' channel code "
            f"of the simulated WeCom corp; GraphiQL: {api_base_url}/graphql",
            flush=True,
        )
        player = DemoPlayer(corp, api, journey_id, say=lambda line: print(line, flush=True))
        try:
            await player.play(customers, seconds)
        except (httpx.HTTPError, RuntimeError) as exc:
            log.error("the demo stopped: %s", exc)
