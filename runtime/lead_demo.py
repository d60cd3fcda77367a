"""The lead demo: Douyin leads walk the lead journey on the simulated SMS account and WeCom corp.

Played beside the canonical demo (`runtime.demo`) inside `omnijourney run --demo`. The brand's
side goes through the public interfaces: the Douyin source is connected with GraphQL
(`setDouyinLeadSource`), each lead is a signed Ocean Engine clue push to its URL, orders are
`POST /v1/events`, progress is read with GraphQL. The people's side is the simulators: a lead
reads the invitation SMS the SMS simulator received and adds the staff member on the simulated
corp, who records the lead's phone on the contact, which is how WeCom's contact is linked to the
lead (`externalcontact/get`).

Each lead follows a script (seconds after their form); in the demo journey a day lasts two
seconds, so the invitation waits four seconds for the add and the reminder six more.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from domain.events import ORDER_PAID
from runtime.simulated_sms import SimulatedSmsAccount
from runtime.simulated_wecom import SimulatedCorp

LeadStep = Literal["add", "join", "pay"]

LEAD_STATE = "douyin-lead-invite"
"""The `state` of the channel code the invitation SMS links to (not the canonical journey's)."""

LEAD_SCRIPTS: list[list[tuple[float, LeadStep]]] = [
    [(2, "add"), (4, "join"), (9, "pay")],  # adds after the invitation, joins, buys
    [(6, "add"), (8, "join")],  # adds after the SMS reminder, joins, never buys
    [],  # never adds: never_added
]
LEAD_NAMES = ["huang", "he", "luo"]

CONNECT = """
mutation($secret: String!) {
  setDouyinLeadSource(input: {clientSecret: $secret}) {
    __typename
    ... on SourceSettings { path }
  }
}
"""
ENROLLMENTS = """
query Leads($journeyId: ID!) {
  enrollments(filter: {journeyId: $journeyId}, first: 100) {
    nodes { status currentNode exitReason converted customer { identities { kind value } } }
  }
}
"""

log = logging.getLogger(__name__)


@dataclass
class Lead:
    """One demo lead: their form, their phone and what they will do."""

    name: str
    phone: str
    script: list[tuple[float, LeadStep]]
    external_userid: str = ""
    texts: int = 0
    added_at: float = 0.0
    welcomed: bool = False


@dataclass
class LeadPlayer:
    """Plays Douyin leads; `api` reaches the API with the demo tenant's admin key."""

    corp: SimulatedCorp
    sms: SimulatedSmsAccount
    api: httpx.AsyncClient
    journey_id: str
    say: Callable[[str], None] = print
    cast: list[Lead] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    path: str = ""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    def _line(self, text: str) -> None:
        self.say(f"  +{time.monotonic() - self.started:5.1f}s  [lead] {text}")

    async def connect(self) -> None:
        """Connect the tenant's Douyin lead source (GraphQL); its push URL path."""
        data = await self._graphql(CONNECT, {"secret": self.secret})
        self.path = data["setDouyinLeadSource"]["path"]

    async def push(self, lead: Lead) -> None:
        """Ocean Engine pushes the lead's clue, signed with the app's client secret."""
        clue = {
            "clue_id": f"demo-{uuid.uuid4().hex[:12]}",
            "telephone": lead.phone,
            "name": lead.name,
            "city_name": "上海",
            "advertiser_id": "1700000001",
            "ad_id": "1781234567",
            "create_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        body = json.dumps({"event": "clue_push", "content": json.dumps({"clues": [clue]})}).encode()
        signature = hashlib.sha1(self.secret.encode() + body, usedforsecurity=False).hexdigest()
        response = await self.api.post(
            self.path,
            content=body,
            headers={"X-Douyin-Signature": signature, "Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"the lead push answered {response.status_code}: {response.text}")
        self._line(f"{lead.name} leaves the Douyin ad's form ({lead.phone})")

    def note_texts(self) -> None:
        """Print each SMS the simulated provider accepted for a lead."""
        for lead in self.cast:
            texts = [sms for sms in self.sms.sim.sent if sms.phone.endswith(lead.phone)]
            for sms in texts[lead.texts :]:
                self._line(f"{lead.name} gets the SMS {sms.template} {sms.params}")
            lead.texts = len(texts)
        sent = {w["external_userid"]: w for w in self.corp.sim.welcomes}
        for lead in self.cast:
            welcome = sent.get(lead.external_userid)
            if welcome is not None and not lead.welcomed:
                lead.welcomed = True
                after = max(float(welcome["sent_at"]) - lead.added_at, 0.0)
                self._line(f"{lead.name} is welcomed {after:.2f} s after adding")

    async def act(self, lead: Lead, step: LeadStep) -> None:
        """One scripted step of a lead."""
        driver = self.corp.driver
        if step == "add":
            added = await driver.add_customer(
                state=LEAD_STATE, name=lead.name, mobile=lead.phone, has_unionid=False
            )
            lead.external_userid, lead.added_at = added.external_userid, time.time()
            self._line(
                f"{lead.name} taps the SMS link and adds {added.staff}, who notes the phone "
                f"(callback answered {added.status})"
            )
        elif step == "join":
            chat_id = await driver.join_group(lead.external_userid, self.corp.group_code.config_id)
            self._line(f"{lead.name} joins the member group {chat_id}")
        else:
            event = {
                "id": f"demo-order-{uuid.uuid4().hex}",
                "type": ORDER_PAID,
                "identity": {"phone": lead.phone},
                "timestamp": datetime.now(UTC).isoformat(),
                "properties": {"total": 128},
            }
            response = await self.api.post("/v1/events", json={"events": [event]})
            if response.status_code != 202:
                raise RuntimeError(f"/v1/events answered {response.status_code}")
            self._line(f"{lead.name} pays ¥128 (order.paid)")

    async def report(self) -> None:
        """Where each lead's enrollment stands, read through GraphQL."""
        data = await self._graphql(ENROLLMENTS, {"journeyId": self.journey_id})
        names = {lead.phone: lead.name for lead in self.cast}
        lines = []
        for enrollment in data["enrollments"]["nodes"]:
            identities = (enrollment.get("customer") or {}).get("identities") or []
            name = next(
                (names[p] for i in identities for p in names if i["value"].endswith(p)), None
            )
            if name is not None:
                where = enrollment["exitReason"] or enrollment["currentNode"]
                converted = ", converted" if enrollment["converted"] else ""
                lines.append(
                    f"      {name:<6} {str(enrollment['status']).lower()}: {where}{converted}"
                )
        self._line("lead enrollments (GraphQL):\n" + "\n".join(sorted(lines)))

    async def play(self, seconds: float) -> None:
        """Push a lead every two seconds, run their scripts and report, for `seconds`."""
        self.cast = [
            Lead(name, f"1390000{index:04d}", LEAD_SCRIPTS[index % len(LEAD_SCRIPTS)])
            for index, name in enumerate(LEAD_NAMES)
        ]
        self.started = time.monotonic()
        await self.connect()
        agenda: list[tuple[float, int, LeadStep | None]] = [
            (2.0 * n, n, None) for n in range(len(self.cast))
        ]
        agenda += [
            (2.0 * n + at, n, step) for n, lead in enumerate(self.cast) for at, step in lead.script
        ]
        agenda.sort(key=lambda item: item[0])
        next_report = 10.0
        while (elapsed := time.monotonic() - self.started) < seconds:
            while agenda and agenda[0][0] <= elapsed:
                _, n, step = agenda.pop(0)
                if step is None:
                    await self.push(self.cast[n])
                else:
                    await self.act(self.cast[n], step)
            self.note_texts()
            if elapsed >= next_report:
                await self.report()
                next_report = elapsed + 10.0
            await asyncio.sleep(0.2)
        self.note_texts()
        await self.report()

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


async def play_leads(
    corp: SimulatedCorp,
    sms: SimulatedSmsAccount,
    api_base_url: str,
    api_key: str,
    journey_id: str,
    *,
    seconds: float = 60.0,
) -> None:
    """Play the demo leads through the lead journey for `seconds`."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_base_url, headers=headers, timeout=10) as api:
        player = LeadPlayer(corp, sms, api, journey_id, say=lambda line: print(line, flush=True))
        try:
            await player.play(seconds)
        except (httpx.HTTPError, RuntimeError) as exc:
            log.error("the lead demo stopped: %s", exc)
