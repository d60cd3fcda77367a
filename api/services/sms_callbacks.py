"""SMS provider pushes in (`SmsCallbackService`): delivery reports and replies become events.

Neither Alibaba Cloud nor Tencent Cloud signs its pushes, so a push is believed on two grounds,
both checked before its body is parsed or anything stored:

1. The URL: `/v1/callbacks/sms/{provider}/{callback_id}` names the tenant by a random
   32-character `callback_id` (never returned by the API except as this path to admins) and the
   provider configured for it. Anyone holding the URL can post to it; rotate it by clearing and
   setting the settings again.
2. Reconciliation: a report must name a message this tenant sent through this provider
   (`store.sms_messages`: provider id, phone and, for Alibaba Cloud, our `OutId`); a reply must
   come from a number the tenant has sent to. Entries that do not reconcile are dropped
   (logged); a push none of whose entries reconcile is rejected (`CallbackRejectedError`,
   nothing stored). A forged report can therefore only repeat what a real one would say. A
   report racing ahead of the record of its send is refused the same way; both providers
   push again when not acknowledged.

Reports become `sms.delivered` / `sms.failed` (with the provider's code) and replies
`sms.replied`, ingested through `IngestService` (the customer is resolved by their `phone`);
event ids derive from the provider's ids, so a push sent again stores nothing new. A reply that
is an unsubscribe word (`domain.sms.is_opt_out`) records the customer's `sms` consent as opted
out (source `sms_reply`), in `_note_reply`, run before the event is routed: later `sms` actions
are skipped by the channel activity.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.services.ports import Clock, utc_now
from api.services.wecom_callbacks import (
    CallbackNotStoredError,
    CallbackRejectedError,
    UnknownCallbackUrlError,
)
from domain import sms_reports
from domain.customers import Customer
from domain.events import Event, EventIn
from domain.sms import (
    CONSENT_CHANNEL,
    PROVIDERS,
    SETTINGS_KIND,
    SMS_DELIVERED,
    SMS_FAILED,
    SMS_REPLIED,
    SmsProvider,
    SmsSettings,
    is_opt_out,
)
from domain.sms_reports import Reply, Report
from ingestion.results import IngestResult
from ingestion.service import IngestService
from store.database import Store

logger = logging.getLogger(__name__)

REPLY_PREPARATION = "sms.note_reply"
CONSENT_SOURCE = "sms_reply"


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    """What became of one push: the events stored and the entries dropped."""

    event_ids: list[str] = field(default_factory=list)
    dropped: int = 0


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class SmsCallbackService:
    """Verifies, reconciles and ingests SMS pushes (module docstring)."""

    def __init__(self, store: Store, ingest: IngestService, clock: Clock = utc_now) -> None:
        self._store = store
        self._ingest = ingest
        self._clock = clock
        ingest.register_preparation(REPLY_PREPARATION, self._note_reply)

    async def settings_for(self, provider: str, callback_id: str) -> tuple[str, SmsSettings]:
        """(tenant, settings) of the callback URL; `UnknownCallbackUrlError` otherwise."""
        found = None
        if provider in PROVIDERS and 16 <= len(callback_id) <= 128:
            found = await self._store.channel_settings.by_lookup(
                SETTINGS_KIND, callback_id, SmsSettings
            )
        if (
            found is None
            or found[1].provider != provider
            or not hmac.compare_digest(found[1].callback_id, callback_id)
        ):
            raise UnknownCallbackUrlError("no such callback URL")
        return found

    async def receive(self, provider: str, callback_id: str, body: bytes) -> SmsReceipt:
        """Handle one push; raises when it must not be acknowledged."""
        tenant_id, settings = await self.settings_for(provider, callback_id)
        try:
            entries = sms_reports.read(settings.provider, json.loads(body))
        except ValueError as exc:
            raise CallbackRejectedError(f"malformed push: {exc}") from exc
        events: list[EventIn] = []
        for entry in entries:
            event = await self._event(tenant_id, settings.provider, entry)
            if event is not None:
                events.append(event)
        dropped = len(entries) - len(events)
        if not events:
            raise CallbackRejectedError(
                "no entry names a message or number of this tenant", signature=True
            )
        if dropped:
            logger.warning(
                "SMS push to tenant %s: %d of %d entries did not reconcile; dropped",
                tenant_id,
                dropped,
                len(entries),
            )
        raw = [event.model_dump(mode="json") for event in events]
        batch = await self._ingest.store_then_route_later(tenant_id, raw, prepare=REPLY_PREPARATION)
        failed = [r for r in batch.results if r.status == "failed"]
        if failed:
            raise CallbackNotStoredError(_problems(failed) or "the events could not be stored")
        rejected = [r for r in batch.results if r.status == "rejected"]
        if rejected:
            # Pushing it again cannot change what ingestion refuses: keep the rest, log these.
            logger.warning(
                "SMS push to tenant %s: events refused: %s", tenant_id, _problems(rejected)
            )
        return SmsReceipt([r.event_id for r in batch.results if r.event_id], dropped)

    async def _event(
        self, tenant_id: str, provider: SmsProvider, entry: Report | Reply
    ) -> EventIn | None:
        now = self._clock()
        if isinstance(entry, Report):
            sent = await self._store.sms_messages.get(tenant_id, provider, entry.message_id)
            if sent is None or sent.phone != entry.phone:
                return None
            if entry.reference is not None and entry.reference != sent.reference:
                return None
            kind = SMS_DELIVERED if entry.delivered else SMS_FAILED
            properties: dict[str, Any] = {
                "provider": provider,
                "message_id": sent.message_id,
                "reference": sent.reference,
                "enrollment_id": sent.enrollment_id,
                "node_id": sent.node_id,
                "template": sent.template,
                "status_code": entry.code,
            }
            if not entry.delivered:
                properties["error_code"] = entry.code
                properties["description"] = entry.description
            return EventIn(
                id=f"sms-{_digest(provider, sent.message_id, kind)}",
                type=kind,
                identity={"phone": entry.phone},
                timestamp=_bounded(entry.at, now),
                properties=properties,
            )
        if not await self._store.sms_messages.sent_to(tenant_id, entry.phone):
            return None
        return EventIn(
            id=f"sms-{_digest(provider, 'reply', entry.key, entry.text)}",
            type=SMS_REPLIED,
            identity={"phone": entry.phone},
            timestamp=_bounded(entry.at, now),
            properties={
                "provider": provider,
                "text": entry.text,
                "sign_name": entry.sign_name,
                "opt_out": is_opt_out(entry.text),
            },
        )

    async def _note_reply(self, tenant_id: str, event: Event, customer: Customer) -> None:
        # The one place an SMS reply changes consent.
        if event.type == SMS_REPLIED and event.properties.get("opt_out") is True:
            await self._store.customers.set_consent(
                tenant_id, customer.id, CONSENT_CHANNEL, False, self._clock(), source=CONSENT_SOURCE
            )

    async def drain(self) -> None:
        """Wait for routing still running in the background."""
        await self._ingest.drain()


def _bounded(at: datetime | None, now: datetime) -> datetime:
    """The provider's time, unless missing or later than ours (clock skew)."""
    return now if at is None or at > now else at


def _problems(results: list[IngestResult]) -> str:
    return "; ".join(f"{p.path or '(event)'}: {p.message}" for r in results for p in r.errors)
