"""`omnijourney demo`: play a few customers through the demo journey of a running stack.

Everything goes through the public API, as a brand's systems would: events are POSTed to
`/v1/events` (the WeCom steps arrive as `wecom.*` events in this release) and progress is read
back with GraphQL. In the demo journey one real day lasts two seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from runtime.seed import DEMO_JOURNEY, key_file
from runtime.settings import Settings

HOOK = "douyin-ad-spring"
NAMES = ["lin", "wang", "zhao", "chen", "liu", "sun", "zhou", "wu", "zheng", "feng"]
# (seconds after the scan, event type, extra properties)
SCRIPTS: list[list[tuple[float, str, dict[str, Any]]]] = [
    [
        (3, "wecom.group_joined", {}),
        (9, "order.paid", {"total": 98}),
        (52, "order.paid", {"total": 104}),
    ],
    [(3, "wecom.group_joined", {})],
    [],
    [(4, "wecom.contact_deleted_by_customer", {})],
    [(2, "order.paid", {"total": 129})],
    [(6, "wecom.group_joined", {}), (12, "order.paid", {"total": 88})],
]
ENROLLMENTS_QUERY = """
query Demo($journeyId: ID!) {
  enrollments(journeyId: $journeyId, first: 100) {
    nodes { customerId status currentNode exitReason converted wait { kind eventType } }
  }
}
"""


@dataclass
class Customer:
    name: str
    userid: str
    script: list[tuple[float, str, dict[str, Any]]]


def _event(customer: Customer, type_: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"demo-{uuid.uuid4().hex}",
        "type": type_,
        "identity": {"wecom_external_userid": customer.userid},
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": properties,
    }


async def _send(http: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    response = await http.post("/v1/events", json={"events": events})
    if response.status_code != 202:
        raise RuntimeError(f"/v1/events answered {response.status_code}: {response.text}")


async def _progress(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.post(
        "/graphql", json={"query": ENROLLMENTS_QUERY, "variables": {"journeyId": DEMO_JOURNEY}}
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL error: {body['errors']}")
    nodes: list[dict[str, Any]] = body["data"]["enrollments"]["nodes"]
    return nodes


def _describe(enrollment: dict[str, Any]) -> str:
    status = enrollment["status"].lower()
    if status in ("active", "paused"):
        wait = enrollment.get("wait") or {}
        waiting = f" (waiting for {wait.get('eventType') or wait.get('kind')})" if wait else ""
        return f"{status} at {enrollment['currentNode']}{waiting}"
    converted = ", converted" if enrollment["converted"] else ""
    return f"{status}: {enrollment['exitReason']}{converted}"


async def play(settings: Settings, customers: int, seconds: float = 75.0) -> int:
    """Scan, join, buy and leave on a script; print where every customer is every few seconds."""
    path = key_file(settings.data_dir.resolve())
    if not path.exists():
        print(f"no demo API key at {path}: start the stack first (make run)")
        return 1
    logging.getLogger("httpx").setLevel(logging.WARNING)
    headers = {"Authorization": f"Bearer {path.read_text(encoding='utf-8').strip()}"}
    run = uuid.uuid4().hex[:6]
    cast = [
        Customer(NAMES[n % len(NAMES)], f"wm_demo_{run}_{n}", SCRIPTS[n % len(SCRIPTS)])
        for n in range(customers)
    ]
    async with httpx.AsyncClient(base_url=settings.base_url, headers=headers, timeout=10) as http:
        try:
            await _send(http, [_event(c, "wecom.contact_added", {"state": HOOK}) for c in cast])
        except httpx.ConnectError:
            print(f"cannot reach {settings.base_url}: start the stack first (make run)")
            return 1
        print(
            f"{len(cast)} customers scanned the '{HOOK}' code; GraphiQL: {settings.base_url}/graphql"
        )
        pending = sorted(
            (at, n, type_, props) for n, c in enumerate(cast) for at, type_, props in c.script
        )
        started = time.monotonic()
        next_report = 0.0
        while time.monotonic() - started < seconds:
            elapsed = time.monotonic() - started
            while pending and pending[0][0] <= elapsed:
                _, n, type_, props = pending.pop(0)
                await _send(http, [_event(cast[n], type_, props)])
                print(f"  +{elapsed:4.0f}s  {cast[n].name} → {type_}")
            if elapsed >= next_report:
                mine = {c.userid: c for c in cast}
                await _report(http, mine, elapsed)
                next_report = elapsed + 5
            await asyncio.sleep(0.25)
    print("done: every step is in GraphiQL (enrollments, customers' timelines) and the Temporal UI")
    return 0


async def _report(http: httpx.AsyncClient, cast: dict[str, Customer], elapsed: float) -> None:
    lines = []
    for enrollment in await _progress(http):
        customer = await _customer_name(http, enrollment["customerId"], cast)
        if customer is not None:
            lines.append(f"    {customer:<6} {_describe(enrollment)}")
    print(f"  [{elapsed:4.0f}s]\n" + "\n".join(sorted(lines)))


_NAME_QUERY = "query N($id: ID!) { customer(id: $id) { identities { kind value } } }"
_names: dict[str, str | None] = {}


async def _customer_name(
    http: httpx.AsyncClient, customer_id: str, cast: dict[str, Customer]
) -> str | None:
    if customer_id not in _names:
        response = await http.post(
            "/graphql", json={"query": _NAME_QUERY, "variables": {"id": customer_id}}
        )
        data = response.json().get("data") or {}
        identities = (data.get("customer") or {}).get("identities") or []
        userids = [i["value"] for i in identities if i["kind"] == "wecom_external_userid"]
        match = next((cast[u] for u in userids if u in cast), None)
        _names[customer_id] = match.name if match else None
    return _names[customer_id]
