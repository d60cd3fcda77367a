"""The connector activity: run one channel action exactly once per idempotency key.

1. `deliveries.begin` inserts a pending delivery, or returns the one already recorded for the key
   (the unique index on (tenant, idempotency_key) is what makes this safe under retries and
   concurrent workers). A delivery that already succeeded is answered from the record: the
   channel is not called again.
2. The connector runs with the same key, which it passes on to the channel wherever the channel
   can de-duplicate (a crash between the channel call and step 3 is covered by that).
3. The outcome is recorded. Transient errors are retried by Temporal (with the channel's requested
   delay); permanent ones, and the last attempt's transient one, mark the delivery failed and end
   the activity with a non-retryable `PermanentChannelError`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import models as act
from connectors.base import ActionRequest, CustomerContact
from connectors.errors import PermanentChannelError, TransientChannelError
from connectors.registry import ConnectorRegistry
from domain.deliveries import Delivery
from store.database import Store

log = logging.getLogger(__name__)


class ChannelActivities:
    """Runs connector actions; built once per worker with the registry and the store."""

    def __init__(self, registry: ConnectorRegistry, store: Store) -> None:
        self.registry = registry
        self.store = store

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
            await self.store.deliveries.mark_failed(
                ref.tenant_id, input.idempotency_key, datetime.now(UTC), error=err.message
            )
            raise ApplicationError(
                err.message, err.code, type="PermanentChannelError", non_retryable=True
            ) from err
        await self.store.deliveries.mark_succeeded(
            ref.tenant_id,
            input.idempotency_key,
            datetime.now(UTC),
            external_id=outcome.external_id,
            detail=outcome.detail,
        )
        log.info(
            "delivered %s.%s for %s (%s)",
            input.channel,
            input.action,
            ref.enrollment_id,
            input.node_id,
        )
        return act.RunActionResult(status="succeeded", external_id=outcome.external_id)
