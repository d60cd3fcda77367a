"""Mass-message results: poll WeCom for each task's per-customer outcome and ingest it as events.

`add_msg_template` only creates a task; the staff member confirms it in the WeCom app and WeCom
then sends (or refuses) it per customer. Nothing is pushed to us, so `MassMessageResultPoller`
asks `externalcontact/get_groupmsg_send_result` for the succeeded `wecom.mass_message` deliveries
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

What it costs WeCom: a task is asked about only when due (`next_at` in the delivery's
`detail.result_poll`), at an interval that grows with the task's age (`POLL_SCHEDULE`: staff
confirm most tasks soon after they are issued, or not at all), and a round asks about at most
`max_per_round` tasks, never-polled and most overdue first. Polling a task ends for good
(`done`) once every customer has a final status or the task aged out, and (`failed`, recorded
and logged once) when WeCom refuses the question permanently (an unknown msgid, a revoked app):
asking again cannot help. A transient failure (network, system busy, frequency limit) backs off
exponentially, at least as long as WeCom asked, and skips the tenant's other tasks this round.

Every worker process runs a poller. Before asking about a task, a poller claims it
(`DeliveryRepository.claim_result_poll`, a conditional update of its `next_at`), so with several
worker replicas each task is still asked about once per interval, by one of them.

The deliveries come from `DeliveryRepository.due_for_result_poll`, the one query that spans
tenants (finding every tenant's work is its purpose); each delivery, event and WeCom call then
stays within its own tenant.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.wecom.client import WeComClient
from domain.customers import EXTERNAL_USERID
from domain.deliveries import Delivery
from domain.wecom_events import MASS_MESSAGE_RESULT
from ingestion.service import IngestService
from store.database import Store

logger = logging.getLogger(__name__)

SEND_RESULT_PATH = "externalcontact/get_groupmsg_send_result"
STATUSES = {1: "sent", 2: "not_friend", 3: "limit_reached"}
MAX_PAGES = 20

POLL_SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(minutes=10), timedelta(0)),
    (timedelta(hours=2), timedelta(minutes=5)),
    (timedelta(days=1), timedelta(minutes=30)),
)
"""(task younger than, poll every): the interval for a task of a given age. A young task is
asked about every round (the poller's own interval is the floor of every entry): journeys wait
for its result with a timeout, often hours, in the demo seconds."""
LATE_INTERVAL = timedelta(hours=2)
"""The interval for tasks older than the schedule's last age."""
MAX_BACKOFF = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)
"""How long a task claimed by one poller is left to it: every worker process runs a poller, and
a task is asked about by the one that claimed it; should that one die mid-way, the task is due
again after this (or its interval, if longer)."""


def poll_interval(
    age: timedelta,
    schedule: Sequence[tuple[timedelta, timedelta]] = POLL_SCHEDULE,
    late: timedelta = LATE_INTERVAL,
) -> timedelta:
    """How long to wait before asking again about a task `age` old."""
    for younger_than, every in schedule:
        if age < younger_than:
            return every
    return late


def backoff(failures: int, interval: timedelta, retry_after: float | None = None) -> timedelta:
    """The wait after the `failures`-th transient failure in a row: the task's interval,
    doubled per failure, capped at `MAX_BACKOFF`, and never shorter than WeCom asked."""
    factor: int = 2 ** min(max(failures - 1, 0), 16)
    doubled = min(interval * factor, MAX_BACKOFF)
    return max(doubled, timedelta(seconds=retry_after or 0))


def result_event_id(msgid: str, external_userid: str) -> str:
    """The id of a customer's result event for one task."""
    digest = hashlib.sha256(f"{msgid}\x00{external_userid}".encode()).hexdigest()
    return f"wecom_mmr_{digest[:40]}"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Polled:
    stored: int  # result events accepted now
    complete: bool  # every customer of the task has a final result


class MassMessageResultPoller:
    """Turns mass-message task results into events (module docstring)."""

    def __init__(
        self,
        store: Store,
        client: WeComClient,
        ingest: IngestService,
        interval: float = 30.0,
        *,
        max_age: timedelta = timedelta(days=3),
        grace: timedelta = timedelta(hours=1),
        max_per_round: int = 200,
        schedule: Sequence[tuple[timedelta, timedelta]] = POLL_SCHEDULE,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._client = client
        self._ingest = ingest
        self._interval = interval
        self._max_age = max_age
        self._grace = grace
        self._max_per_round = max_per_round
        self._schedule = schedule
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
        """One round over the deliveries due (at most `max_per_round`); how many events were
        stored."""
        now = self._clock()
        # Tasks past max_age stay eligible for `grace`, so an aged-out task still gets its
        # `not_sent` results when a round was missed.
        window_start = now - self._max_age - self._grace
        due = await self._store.deliveries.due_for_result_poll(
            "wecom", "mass_message", window_start, now, self._max_per_round
        )
        stored = 0
        held_back: set[str] = set()  # tenants WeCom asked to wait this round
        for delivery in due:
            if delivery.tenant_id in held_back:
                continue
            stored += await self._poll_safely(delivery, now, held_back)
        return stored

    async def _poll_safely(self, delivery: Delivery, now: datetime, held_back: set[str]) -> int:
        tenant_id, key = delivery.tenant_id, delivery.idempotency_key
        age = now - delivery.updated_at
        interval = max(poll_interval(age, self._schedule), timedelta(seconds=self._interval))
        aged_out = age > self._max_age
        previous = delivery.detail.get("result_poll") or {}
        seen = previous.get("next_at")
        claimed = await self._store.deliveries.claim_result_poll(
            tenant_id,
            key,
            seen_next_at=seen if isinstance(seen, str) else None,
            until=now + max(interval, CLAIM_LEASE),
        )
        if not claimed:
            return 0  # another worker process is asking about it (or just did)
        try:
            polled = await self._poll_delivery(delivery, now, aged_out)
        except PermanentChannelError as exc:
            recorded = await self._store.deliveries.record_result_poll(
                tenant_id, key, state="failed", at=now, error=exc.message
            )
            if recorded:
                logger.warning(
                    "mass-message results of delivery %s (tenant %s) cannot be polled; "
                    "giving up: %s",
                    key,
                    tenant_id,
                    exc.message,
                )
            return 0
        except Exception as exc:
            failures = int(previous.get("failures") or 0) + 1
            retry_after = exc.retry_after if isinstance(exc, TransientChannelError) else None
            wait = backoff(failures, interval, retry_after)
            held_back.add(tenant_id)
            logger.warning(
                "mass-message results of delivery %s (tenant %s), failure %d; retrying in %s: "
                "%s: %s",
                key,
                tenant_id,
                failures,
                wait,
                type(exc).__name__,
                exc,
            )
            await self._store.deliveries.record_result_poll(
                tenant_id,
                key,
                state="polling",
                at=now,
                next_at=now + wait,
                failures=failures,
                error=str(exc)[:200],
            )
            return 0
        if polled.complete:
            await self._store.deliveries.record_result_poll(tenant_id, key, state="done", at=now)
        else:
            await self._store.deliveries.record_result_poll(
                tenant_id, key, state="polling", at=now, next_at=now + interval
            )
        return polled.stored

    async def _poll_delivery(self, delivery: Delivery, now: datetime, aged_out: bool) -> _Polled:
        msgid = delivery.external_id or ""
        sender = delivery.detail.get("sender")
        send_list, whole = await self._send_list(delivery.tenant_id, msgid, sender)
        events: list[dict[str, Any]] = []
        # An empty list may only mean WeCom has not filled it in yet.
        complete = whole and (bool(send_list) or aged_out)
        for item in send_list:
            external = item.get("external_userid")
            if not isinstance(external, str) or not external:
                continue
            status = STATUSES.get(int(item.get("status") or 0))
            if status is None:
                if not aged_out:
                    complete = False
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
            return _Polled(0, complete)
        results = await self._ingest.ingest(delivery.tenant_id, events)
        # A result event not stored (a failed write) is asked for again next time.
        complete = complete and all(result.stored for result in results)
        return _Polled(sum(1 for result in results if result.status == "accepted"), complete)

    async def _send_list(
        self, tenant_id: str, msgid: str, sender: object
    ) -> tuple[list[dict[str, Any]], bool]:
        """The task's per-customer rows, and whether that is all of them (`MAX_PAGES`)."""
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
                return found, True
        return found, False
