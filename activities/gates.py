"""What stands between a journey and a send once consent is given: the tenant's quiet hours and
frequency caps (`domain.messaging`), checked by the channel activity before the connector runs.

- Quiet hours: an action that respects quiet hours, due inside the tenant's, is *held*.
- Caps: the send takes a place in every cap that applies to it (`store.touch_counters`); when
  one is full it gives back the places it took and the action is *skipped* (`when_capped` =
  `skip`: the delivery is recorded `skipped` with the cap named, and the action ends as a
  non-retryable `PermanentChannelError` with code `frequency_capped`, so the journey takes its
  `failed` edge) or *held* (`wait`) until that cap's period ends.
- Held: the activity ends with a non-retryable `HeldError` carrying the delay; the workflow waits
  that long on a durable timer and runs the action again with the same idempotency key.

A send that then fails for good gives its places back (`release`); one that succeeds keeps them,
and a retried activity finds its places already taken by its key, so it is never counted twice.

The policy is read once per `POLICY_TTL_SECONDS` per tenant and worker process, not once per send
(it is one of the channel activity's round trips); a change made through the API applies to sends
within that time. The counters themselves are never cached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.exceptions import ApplicationError

from activities import models as act
from domain.messaging import (
    POLICY_KIND,
    MessagingPolicy,
    cap_reason,
    period_of,
    quiet_hold,
    when_full,
)
from store.caching import TtlCache
from store.database import Store

log = logging.getLogger(__name__)

FREQUENCY_CAPPED = "frequency_capped"
POLICY_TTL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Place:
    """One place a send took in a cap's period."""

    cap_id: str
    period: str


def held(delay_seconds: float, reason: str) -> ApplicationError:
    """The error that tells the workflow to try the action again after `delay_seconds`."""
    return ApplicationError(
        f"held {delay_seconds:.0f}s: {reason}",
        {"delay_seconds": max(1.0, delay_seconds), "reason": reason},
        type=act.HELD_ERROR,
        non_retryable=True,
    )


class Gates:
    """Quiet hours and frequency caps of the tenant, for one send."""

    def __init__(self, store: Store, policy_ttl: float = POLICY_TTL_SECONDS) -> None:
        self._store = store
        self._policies: TtlCache[str, MessagingPolicy] = TtlCache(policy_ttl)

    async def policy(self, tenant_id: str) -> MessagingPolicy:
        """The tenant's policy (none set: no caps, no quiet hours), as read at most
        `policy_ttl` seconds ago."""
        return await self._policies.get_or_load(tenant_id, lambda: self._read_policy(tenant_id))

    async def _read_policy(self, tenant_id: str) -> MessagingPolicy:
        found = await self._store.channel_settings.get(tenant_id, POLICY_KIND, MessagingPolicy)
        return found or MessagingPolicy()

    async def admit(self, input: act.RunActionInput, now: datetime) -> list[Place]:
        """The places this send took; raises `held(...)` or a `frequency_capped` skip."""
        ref = input.enrollment
        policy = await self.policy(ref.tenant_id)
        hold = quiet_hold(policy, input.respect_quiet_hours, now)
        if hold is not None:
            raise held(hold.seconds, hold.reason)
        taken: list[Place] = []
        for cap in policy.caps_for(input.channel):
            period, ends = period_of(cap, now, policy.timezone)
            if await self._store.touch_counters.reserve(
                ref.tenant_id,
                ref.customer_id,
                cap.id,
                period,
                cap.limit,
                input.idempotency_key,
                ends,
            ):
                taken.append(Place(cap.id, period))
                continue
            await self.release(input, taken)
            reason = cap_reason(cap)
            hold = when_full(cap, input.when_capped, now, ends)
            if hold is not None:
                raise held(hold.seconds, hold.reason)
            await self._store.deliveries.mark_skipped(
                ref.tenant_id, input.idempotency_key, datetime.now(UTC), reason=reason
            )
            log.info(
                "skipped %s.%s for %s: %s", input.channel, input.action, ref.enrollment_id, reason
            )
            raise ApplicationError(
                reason, FREQUENCY_CAPPED, type="PermanentChannelError", non_retryable=True
            )
        return taken

    async def release(self, input: act.RunActionInput, places: list[Place]) -> None:
        """Give back the places of a send that did not happen."""
        ref = input.enrollment
        for place in places:
            await self._store.touch_counters.release(
                ref.tenant_id, ref.customer_id, place.cap_id, place.period, input.idempotency_key
            )
