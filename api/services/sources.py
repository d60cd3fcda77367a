"""Lead and order pushes in (`SourceService`): find the tenant, verify, translate, ingest.

A push names its tenant by the callback id in its URL (the source's settings' `lookup`, see
`api.services.source_settings`). The signature is checked with that tenant's secret before
anything of the body is parsed (Youzan signs fields of its JSON body, so its body is decoded
first, and only its `client_id`, `msg`, `sign` and `test` are read before the check: a test
message, which Youzan sends unsigned to see the receiver is up, is acknowledged and dropped); a
push that does not check out stores nothing. A verified push is translated (`domain.sources.leads`,
`domain.sources.orders`) and its events go through the same `IngestService` as `POST /v1/events`
(identity resolution, which links every identity the event carries to one customer and merges
customers it shows to be one; storage, de-duplicated by the event id, which is the platform's
lead or order id; journey routing). The answer comes once the events are stored; routing runs
in the background, as for WeCom's callbacks. A lead's hook (`properties.state`) is noted as the
customer's first touch just before the lead is routed (`LEAD_PREPARATION`, also run by whoever
routes the event later).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from api.services.ports import Clock, utc_now
from domain.customers import Customer
from domain.errors import DomainError
from domain.events import ORDER_REFUNDED, Event
from domain.sources import leads, orders, signatures
from domain.sources.settings import (
    DOUYIN_KIND,
    ORDERS_KIND,
    XIAOHONGSHU_KIND,
    YOUZAN_KIND,
    DouyinLeadSettings,
    OrderWebhookSettings,
    XiaohongshuLeadSettings,
    YouzanSettings,
)
from ingestion.service import IngestService
from store.database import Store

logger = logging.getLogger(__name__)

LEAD_PREPARATION = "sources.note_lead"
"""The preparation leads are stored with: note the lead's hook as the customer's first touch."""

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class UnknownSourceUrlError(DomainError):
    """No tenant's source URL ends in this callback id."""


class SourceRejectedError(DomainError):
    """The push does not check out; nothing was stored. `signature`: a bad or missing
    signature (or a replayed order message), answered 403; else malformed, answered 400."""

    def __init__(self, reason: str, *, signature: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signature = signature


class SourceNotStoredError(DomainError):
    """Storing the push's events failed; the platform should send it again."""


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        decoded = json.loads(body)
    except ValueError as exc:
        raise SourceRejectedError("the body is not JSON") from exc
    if not isinstance(decoded, dict):
        raise SourceRejectedError("the body must be a JSON object")
    return decoded


class SourceService:
    """Verifies, translates and ingests lead and order pushes (module docstring)."""

    def __init__(self, store: Store, ingest: IngestService, clock: Clock = utc_now) -> None:
        self._store = store
        self._ingest = ingest
        self._clock = clock
        ingest.register_preparation(LEAD_PREPARATION, self._note_lead)

    async def _settings(
        self, kind: str, callback_id: str, model: type[SettingsT]
    ) -> tuple[str, SettingsT]:
        found = await self._store.channel_settings.by_lookup(kind, callback_id, model)
        if found is None:
            raise UnknownSourceUrlError(f"no tenant has this {kind} URL")
        return found

    async def douyin(
        self, callback_id: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """Take a Douyin push; the JSON to answer (the challenge, for the URL check)."""
        tenant_id, settings = await self._settings(DOUYIN_KIND, callback_id, DouyinLeadSettings)
        signature = headers.get("x-douyin-signature", "")
        secret = settings.client_secret.get_secret_value()
        if not signature or not signatures.douyin_verified(secret, body, signature):
            raise SourceRejectedError("X-Douyin-Signature does not match", signature=True)
        envelope = _json(body)
        challenge = leads.douyin_challenge(envelope)
        if challenge is not None:
            return {"challenge": challenge}
        try:
            events = leads.douyin_leads(envelope, self._clock())
        except leads.NotALeadError as exc:
            raise SourceRejectedError(str(exc)) from exc
        await self._ingest_events(tenant_id, events, LEAD_PREPARATION)
        return {"code": 0, "message": "success"}

    async def xiaohongshu(
        self, callback_id: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """Take a Xiaohongshu lead push; the JSON to answer."""
        tenant_id, settings = await self._settings(
            XIAOHONGSHU_KIND, callback_id, XiaohongshuLeadSettings
        )
        signature = headers.get("x-red-signature", "")
        token = settings.token.get_secret_value()
        if not signature or not signatures.xiaohongshu_verified(token, body, signature):
            raise SourceRejectedError("X-Red-Signature does not match", signature=True)
        try:
            events = leads.xiaohongshu_leads(_json(body), self._clock())
        except leads.NotALeadError as exc:
            raise SourceRejectedError(str(exc)) from exc
        await self._ingest_events(tenant_id, events, LEAD_PREPARATION)
        return {"code": 0, "msg": "success"}

    async def orders(
        self, callback_id: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """Take one order webhook message (`domain.sources.orders`); the JSON to answer."""
        tenant_id, settings = await self._settings(ORDERS_KIND, callback_id, OrderWebhookSettings)
        timestamp = headers.get("x-omnijourney-timestamp", "")
        signature = headers.get("x-omnijourney-signature", "")
        keys = [settings.secret.get_secret_value()]
        now = self._clock()
        if settings.previous_secret is not None and (
            settings.previous_valid_until is not None and now < settings.previous_valid_until
        ):
            keys.append(settings.previous_secret.get_secret_value())
        if not signatures.order_verified(keys, timestamp, body, signature, now.timestamp()):
            raise SourceRejectedError(
                "X-Omnijourney-Signature does not match, or the timestamp is outside the "
                f"{signatures.ORDER_REPLAY_WINDOW} s window",
                signature=True,
            )
        try:
            events = orders.webhook_orders(_json(body))
        except orders.NotAnOrderError as exc:
            raise SourceRejectedError(str(exc)) from exc
        event_ids = await self._ingest_events(tenant_id, events, None)
        return {"ok": True, "event_ids": event_ids}

    async def youzan(self, callback_id: str, body: bytes) -> dict[str, Any]:
        """Take a Youzan push; the JSON Youzan expects (`{"code": 0, "msg": "success"}`)."""
        tenant_id, settings = await self._settings(YOUZAN_KIND, callback_id, YouzanSettings)
        envelope = _json(body)
        client_id, msg, sign = (envelope.get(name) for name in ("client_id", "msg", "sign"))
        answer = {"code": 0, "msg": "success"}
        if envelope.get("test") is True:
            # Youzan's periodic check that the receiver is up; its docs leave test messages
            # unsigned, so it is acknowledged whatever its sign, and nothing of it is read.
            return answer
        secret = settings.client_secret.get_secret_value()
        if not (
            isinstance(client_id, str)
            and isinstance(msg, str)
            and isinstance(sign, str)
            and client_id == settings.client_id
            and signatures.youzan_verified(client_id, msg, secret, sign)
        ):
            raise SourceRejectedError("sign does not match", signature=True)
        try:
            events = orders.youzan_orders(envelope, self._clock())
            for event in events:
                if not event["identity"] and event["type"] == ORDER_REFUNDED:
                    event["identity"] = await self._paid_identity(tenant_id, envelope, event)
        except orders.NotAnOrderError as exc:
            raise SourceRejectedError(str(exc)) from exc
        await self._ingest_events(tenant_id, events, None)
        return answer

    async def _paid_identity(
        self, tenant_id: str, envelope: Mapping[str, Any], event: dict[str, Any]
    ) -> dict[str, str]:
        paid_id = orders.youzan_paid_event_id(event["properties"]["order_id"])
        paid = await self._store.events.find(tenant_id, paid_id)
        if paid is None:
            raise orders.NotAnOrderError("the refund names no buyer and its order is not known")
        return dict(paid.event.identity)

    async def _ingest_events(
        self, tenant_id: str, events: list[dict[str, Any]], prepare: str | None
    ) -> list[str]:
        if not events:
            return []
        batch = await self._ingest.store_then_route_later(tenant_id, events, prepare=prepare)
        problems = "; ".join(
            f"{p.path or '(event)'}: {p.message}"
            for r in batch.results
            if r.status in ("failed", "rejected")
            for p in r.errors
        )
        if any(r.status == "failed" for r in batch.results):
            raise SourceNotStoredError(problems)
        if any(r.status == "rejected" for r in batch.results):
            raise SourceRejectedError(problems)
        return [r.event_id for r in batch.results if r.event_id is not None]

    async def _note_lead(self, tenant_id: str, event: Event, customer: Customer) -> None:
        hook = event.properties.get("state")
        if event.type == leads.LEAD_CREATED and isinstance(hook, str) and hook:
            await self._store.customers.set_first_touch_hook(
                tenant_id, customer.id, hook, self._clock()
            )

    async def drain(self) -> None:
        """Wait for routing still running in the background (at shutdown, in tests)."""
        await self._ingest.drain()
