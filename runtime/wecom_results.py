"""Mass-message results: poll WeCom for each task's per-customer outcome and ingest it as events.

`add_msg_template` only creates a task; the staff member confirms it in the WeCom app and WeCom
then sends (or refuses) it per customer. Nothing is pushed to us, so `MassMessageResultPoller`
asks `externalcontact/get_groupmsg_send_result` for every succeeded `wecom.mass_message` delivery
younger than `max_age` and ingests one `wecom.mass_message.result` event per customer whose status
is final:

| WeCom status | event `status`  |
|--------------|-----------------|
| 1            | `sent`          |
| 2            | `not_friend`    |
| 3            | `limit_reached` |
| 0 at max_age | `not_sent`      |

The event id derives from (msgid, external_userid), so each customer gets one result event per
task however often the poller runs; the journey's wait on the event has its own timeout for tasks
nobody confirms.

The deliveries come from `DeliveryRepository.succeeded_with_external_id_since`, the one query
that spans tenants (finding every tenant's work is its purpose); each delivery, event and WeCom
call then stays within its own tenant.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from api.services.ingest import IngestService
from domain.deliveries import Delivery
from domain.wecom_events import EXTERNAL_USERID, MASS_MESSAGE_RESULT
from store.database import Store

logger = logging.getLogger(__name__)

SEND_RESULT_PATH = "externalcontact/get_groupmsg_send_result"
STATUSES = {1: "sent", 2: "not_friend", 3: "limit_reached"}
MAX_PAGES = 20


class WeComCaller(Protocol):
    """`connectors.wecom.client.WeComClient.call`."""

    async def call(
        self,
        tenant_id: str,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        query: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...


def result_event_id(msgid: str, external_userid: str) -> str:
    """The id of a customer's result event for one task."""
    digest = hashlib.sha256(f"{msgid}\x00{external_userid}".encode()).hexdigest()
    return f"wecom_mmr_{digest[:40]}"


def _now() -> datetime:
    return datetime.now(UTC)


class MassMessageResultPoller:
    """Turns mass-message task results into events (module docstring)."""

    def __init__(
        self,
        store: Store,
        client: WeComCaller,
        ingest: IngestService,
        interval: float = 30.0,
        *,
        max_age: timedelta = timedelta(days=3),
        grace: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._client = client
        self._ingest = ingest
        self._interval = interval
        self._max_age = max_age
        self._grace = grace
        self._clock = clock

    async def run(self) -> None:
        """Poll every `interval` seconds until cancelled."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                # One bad round must not stop the poller; the next round retries everything.
                logger.exception("polling mass-message results failed")
            await asyncio.sleep(self._interval)

    async def poll_once(self) -> int:
        """One round over every delivery awaiting results; how many events were stored."""
        now = self._clock()
        stored = 0
        # Tasks past max_age keep being asked for `grace`, so an aged-out task gets its
        # `not_sent` results even when a round was missed.
        window_start = now - self._max_age - self._grace
        awaiting = self._store.deliveries.succeeded_with_external_id_since(
            "wecom", "mass_message", window_start
        )
        async for delivery in awaiting:
            try:
                stored += await self._poll_delivery(delivery, now)
            except Exception as exc:
                logger.warning(
                    "mass-message results of delivery %s (tenant %s): %s",
                    delivery.idempotency_key,
                    delivery.tenant_id,
                    exc,
                )
        return stored

    async def _poll_delivery(self, delivery: Delivery, now: datetime) -> int:
        msgid = delivery.external_id or ""
        sender = delivery.detail.get("sender")
        aged_out = now - delivery.updated_at > self._max_age
        events: list[dict[str, Any]] = []
        for item in await self._send_list(delivery.tenant_id, msgid, sender):
            external = item.get("external_userid")
            if not isinstance(external, str) or not external:
                continue
            status = STATUSES.get(int(item.get("status") or 0))
            if status is None:
                if not aged_out:
                    continue
                status = "not_sent"
            event_id = result_event_id(msgid, external)
            if await self._store.events.get(delivery.tenant_id, event_id) is not None:
                continue
            sent_at = item.get("send_time")
            when = (
                datetime.fromtimestamp(int(sent_at), UTC)
                if isinstance(sent_at, int) and sent_at > 0
                else now
            )
            events.append(
                {
                    "id": event_id,
                    "type": MASS_MESSAGE_RESULT,
                    "identity": {EXTERNAL_USERID: external},
                    "timestamp": when.isoformat(),
                    "properties": {
                        "msgid": msgid,
                        "status": status,
                        "staff_userid": item.get("userid") or sender,
                        "enrollment_id": delivery.enrollment_id,
                        "node_id": delivery.node_id,
                    },
                }
            )
        if not events:
            return 0
        results = await self._ingest.ingest(delivery.tenant_id, events)
        return sum(1 for result in results if result.status == "accepted")

    async def _send_list(self, tenant_id: str, msgid: str, sender: object) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            payload: dict[str, Any] = {"msgid": msgid, "limit": 1000, "cursor": cursor}
            if isinstance(sender, str) and sender:
                payload["userid"] = sender
            answer = await self._client.call(tenant_id, SEND_RESULT_PATH, payload)
            found.extend(item for item in answer.get("send_list") or [] if isinstance(item, dict))
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                break
        return found
