"""The connector activity: run one channel action exactly once per idempotency key.

1. `deliveries.begin` inserts a pending delivery, or returns the one already recorded for the key
   (the unique index on (tenant, idempotency_key) is what makes this safe under retries and
   concurrent workers). A delivery that already succeeded is answered from the record: the
   channel is not called again.
2. Unless the customer opted out of the channel (their consent under the channel's name): then
   the delivery is marked `skipped` with the reason, the connector is never called, and the
   activity ends with a non-retryable `PermanentChannelError` (code `consent_opted_out`), so the
   journey takes the action's `failed` edge when it has one. Then the tenant's quiet hours and
   frequency caps (`activities.gates`) may hold the send (the workflow tries again later) or
   skip it the same way.
3. The connector runs with the same key, which it passes on to the channel wherever the channel
   can de-duplicate (a crash between the channel call and step 4 is covered by that).
4. The outcome is recorded. A success is recorded patiently: while MongoDB is unreachable the
   activity keeps trying until shortly before its attempt would time out, because failing here
   would make Temporal run it again and call the channel a second time. Transient errors are retried by Temporal (with the channel's requested
   delay); permanent ones, and the last attempt's transient one, mark the delivery failed and end
   the activity with a non-retryable `PermanentChannelError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import models as act
from activities.gates import Gates
from connectors.base import ActionOutcome, ActionRequest, CustomerContact
from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.registry import ConnectorRegistry
from domain.deliveries import SKIPPED_OPTED_OUT, Delivery, opted_out_reason
from store.database import Store
from store.mongo import StoreUnavailable

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


RECORD_RETRY_SECONDS = 1.0
RECORD_MARGIN = timedelta(seconds=5)
"""Recording a success stops trying this long before the attempt's start-to-close timeout."""


class ChannelActivities:
    """Runs connector actions; built once per worker with the registry and the store."""

    def __init__(
        self, registry: ConnectorRegistry, store: Store, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.registry = registry
        self.store = store
        self.gates = Gates(store)
        self._clock = clock

    @activity.defn(name=act.RUN_ACTION)
    async def run_action(self, input: act.RunActionInput) -> act.RunActionResult:
        ref = input.enrollment
        now = datetime.now(UTC)
        delivery = await self.store.deliveries.begin(
            Delivery(
                tenant_id=ref.tenant_id,
                idempotency_key=input.idempotency_key,
                enrollment_id=ref.enrollment_id,
                customer_id=ref.customer_id,
                journey_id=ref.journey_id,
                node_id=input.node_id,
                channel=input.channel,
                action=input.action,
                created_at=now,
                updated_at=now,
            )
        )
        if delivery.status == "succeeded":
            return act.RunActionResult(
                status="succeeded", external_id=delivery.external_id, replayed=True
            )
        customer = await self.store.customers.get(ref.tenant_id, ref.customer_id)
        refusal = customer.opted_out(input.channel)
        if refusal is not None:
            reason = opted_out_reason(input.channel, refusal.source, refusal.at)
            await self.store.deliveries.mark_skipped(
                ref.tenant_id, input.idempotency_key, datetime.now(UTC), reason=reason
            )
            log.info(
                "skipped %s.%s for %s: opted out", input.channel, input.action, ref.enrollment_id
            )
            raise ApplicationError(
                reason, SKIPPED_OPTED_OUT, type="PermanentChannelError", non_retryable=True
            )
        places = await self.gates.admit(input, self._clock())
        contact = CustomerContact(
            customer_id=customer.id,
            identities={i.kind: i.value for i in customer.identities},
            attributes=dict(customer.attributes),
        )
        trigger = None
        if input.trigger_event_id is not None:
            event = await self.store.events.get(ref.tenant_id, input.trigger_event_id)
            if event is not None:
                trigger = {
                    "id": event.id,
                    "type": event.type,
                    "timestamp": event.timestamp.isoformat(),
                    "properties": event.properties,
                }
        try:
            connector = self.registry.get(input.channel)
            outcome = await connector.execute(
                ActionRequest(
                    tenant_id=ref.tenant_id,
                    enrollment_id=ref.enrollment_id,
                    node_id=input.node_id,
                    action=input.action,
                    params=input.params,
                    idempotency_key=input.idempotency_key,
                    customer=contact,
                    trigger=trigger,
                )
            )
        except TransientChannelError as err:
            final = activity.info().attempt >= act.MAX_ACTION_ATTEMPTS
            await self.store.deliveries.mark_failed(
                ref.tenant_id, input.idempotency_key, datetime.now(UTC), error=err.message
            )
            if final:
                await self.gates.release(input, places)
                raise ApplicationError(
                    f"gave up after {act.MAX_ACTION_ATTEMPTS} attempts: {err.message}",
                    type="PermanentChannelError",
                    non_retryable=True,
                ) from err
            delay = timedelta(seconds=err.retry_after) if err.retry_after else None
            raise ApplicationError(
                err.message, type="TransientChannelError", next_retry_delay=delay
            ) from err
        except PermanentChannelError as err:
            await self.gates.release(input, places)
            await self.store.deliveries.mark_failed(
                ref.tenant_id, input.idempotency_key, datetime.now(UTC), error=err.message
            )
            raise ApplicationError(
                err.message, err.code, type="PermanentChannelError", non_retryable=True
            ) from err
        await self._record_success(ref.tenant_id, input.idempotency_key, outcome)
        log.info(
            "delivered %s.%s for %s (%s)",
            input.channel,
            input.action,
            ref.enrollment_id,
            input.node_id,
        )
        return act.RunActionResult(status="succeeded", external_id=outcome.external_id)

    @activity.defn(name=act.CANCEL_PENDING_TASKS)
    async def cancel_pending_tasks(self, input: act.CancelPendingInput) -> act.CancelPendingResult:
        """Cancel the enrollment's WeCom mass-message tasks whose results are still awaited, so
        staff are not asked to send what its ended journey no longer wants (best effort: a task
        WeCom will not cancel, e.g. one sent meanwhile, is left as it is)."""
        ref = input.enrollment
        connector = self.registry.get("wecom")
        cancel = getattr(connector, "cancel_mass_message", None)
        if cancel is None:
            return act.CancelPendingResult()
        deliveries, cursor = [], None
        while True:  # every page: a months-long enrollment may have many deliveries
            page = await self.store.deliveries.list_for_enrollment(
                ref.tenant_id, ref.enrollment_id, cursor=cursor, limit=100
            )
            deliveries += page.items
            cursor = page.next_cursor
            if cursor is None or not page.items:
                break
        cancelled = 0
        for delivery in deliveries:
            poll = (delivery.detail or {}).get("result_poll") or {}
            if (
                delivery.channel != "wecom"
                or delivery.action != "mass_message"
                or delivery.status != "succeeded"
                or not delivery.external_id
                or poll.get("state") in ("done", "failed")
                or (delivery.detail or {}).get("cancelled_at")
            ):
                continue
            try:
                await cancel(ref.tenant_id, delivery.external_id)
            except (PermanentChannelError, TransientChannelError) as err:
                log.info(
                    "task %s of %s not cancelled: %s", delivery.external_id, ref.enrollment_id, err
                )
                continue
            await self.store.deliveries.mark_task_cancelled(
                ref.tenant_id, delivery.idempotency_key, self._clock()
            )
            cancelled += 1
        return act.CancelPendingResult(cancelled=cancelled)

    async def _record_success(self, tenant_id: str, key: str, outcome: ActionOutcome) -> None:
        """Mark the delivery succeeded, retrying while the store is unreachable (module doc)."""
        info = activity.info()
        timeout = info.start_to_close_timeout or timedelta(minutes=1)
        give_up = info.started_time + timeout - RECORD_MARGIN
        while True:
            try:
                await self.store.deliveries.mark_succeeded(
                    tenant_id,
                    key,
                    datetime.now(UTC),
                    external_id=outcome.external_id,
                    detail=outcome.detail,
                )
                return
            except StoreUnavailable:
                if datetime.now(UTC) >= give_up:
                    raise
                log.warning("recording delivery %s failed: MongoDB unreachable; retrying", key)
                await asyncio.sleep(RECORD_RETRY_SECONDS)
