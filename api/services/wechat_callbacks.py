"""WeChat message pushes in (`WeChatCallbackService`), for Official Accounts and mini-programs.

A request names its app kind and tenant by the URL (`/v1/callbacks/{kind}/{callback_id}`); the
codec checks the signature before decrypting and parsing anything (the appid is checked as the
receive id inside the ciphertext). As for WeCom (`api.services.wecom_callbacks`), the message's
de-duplication key is looked up among handled callbacks, so a push WeChat retries changes nothing;
the message is translated (`domain.wechat_events`) and its events go through the `IngestService`
(identity resolution by openid, linked by unionid when the message carries one; storage; journey
routing in the background), stored naming `WECHAT_PREPARATION`, which notes what each event says
about its customer before it is routed (also when routed later by recovery):

| event                              | noted                                                    |
|------------------------------------|----------------------------------------------------------|
| `oa.followed`, `oa.scanned`        | the scene, when it names a hook, as the first-touch hook |
| `oa.followed` / `oa.unfollowed`    | `oa` consent granted / withdrawn (`_CONSENT`)            |
| `miniprogram.subscribe_authorized` | one authorisation of the template for the openid (once per event) |
"""

from __future__ import annotations

import logging
from typing import Literal

from api.services.ports import Clock, WeChatPushCodec, utc_now
from api.services.wecom_callbacks import (
    CallbackNotStoredError,
    CallbackReceipt,
    CallbackRejectedError,
    UnknownCallbackUrlError,
)
from domain import wechat_events
from domain.customers import MINIPROGRAM_OPENID, Customer
from domain.errors import DomainError
from domain.events import Event, EventIn
from domain.wechat import APP_KINDS, OA, WeChatAppSettings
from domain.wechat_events import WeChatMessage
from ingestion.service import IngestService
from store.callbacks import HandledCallback
from store.database import Store

logger = logging.getLogger(__name__)

WECHAT_PREPARATION = "wechat.note_customer"
_CONSENT = {
    wechat_events.FOLLOWED: (True, "oa_follow"),
    wechat_events.UNFOLLOWED: (False, "oa_unfollow"),
}
"""Events that change the customer's `oa` consent: to what, and the consent source recorded."""


class WeChatNotConfiguredError(DomainError):
    """This server cannot open WeChat pushes."""


class WeChatCallbackService:
    """Verifies, de-duplicates, translates and ingests WeChat pushes (module docstring)."""

    def __init__(
        self,
        store: Store,
        ingest: IngestService,
        codec: WeChatPushCodec | None,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._ingest = ingest
        self._codec = codec
        self._clock = clock
        ingest.register_preparation(WECHAT_PREPARATION, self._note_customer)

    async def _app(
        self, kind: str, callback_id: str
    ) -> tuple[WeChatPushCodec, str, WeChatAppSettings]:
        if self._codec is None:
            raise WeChatNotConfiguredError("WeChat callbacks are not configured on this server")
        found = None
        if kind in APP_KINDS:
            found = await self._store.wechat_apps.by_callback_id(kind, callback_id)
        if found is None:
            raise UnknownCallbackUrlError("no such callback URL")
        return self._codec, found[0], found[1]

    async def check_url(self, kind: str, callback_id: str) -> None:
        """Raise `WeChatNotConfiguredError` / `UnknownCallbackUrlError` unless the URL is a tenant's."""
        await self._app(kind, callback_id)

    async def verify_url(
        self, kind: str, callback_id: str, sig: str, timestamp: str, nonce: str, echostr: str
    ) -> str:
        """The echostr for WeChat's URL verification."""
        codec, _, app = await self._app(kind, callback_id)
        try:
            return codec.verify_url(app, sig, timestamp, nonce, echostr)
        except ValueError as exc:
            raise _rejected(exc) from exc

    async def receive(
        self,
        kind: str,
        callback_id: str,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
    ) -> CallbackReceipt:
        """Handle one push; raises the errors above when it must not be acknowledged."""
        codec, tenant_id, app = await self._app(kind, callback_id)
        try:
            message = codec.open(app, msg_signature, timestamp, nonce, body)
        except ValueError as exc:
            raise _rejected(exc) from exc
        key = wechat_events.dedupe_key(kind, message)
        what = f"{kind}:{wechat_events.kind_of(message)}"
        handled = await self._store.wecom_callbacks.handled(tenant_id, key)
        if handled is not None:
            return CallbackReceipt("duplicate", what, list(handled.event_ids))
        try:
            events = await self._translate(tenant_id, kind, app.appid, message)
        except ValueError as exc:
            logger.warning("WeChat push %s of tenant %s untranslatable: %s", what, tenant_id, exc)
            await self._record(tenant_id, key, what, "untranslatable", [], str(exc), message)
            return CallbackReceipt("untranslatable", what)
        if not events:
            await self._record(tenant_id, key, what, "ignored", [], None, message)
            return CallbackReceipt("ignored", what)
        raw = [event.model_dump(mode="json") for event in events]
        batch = await self._ingest.store_then_route_later(
            tenant_id, raw, prepare=WECHAT_PREPARATION
        )
        failed = [r for r in batch.results if r.status == "failed"]
        if failed:
            raise CallbackNotStoredError("the events could not be stored")
        rejected = [r for r in batch.results if r.status == "rejected"]
        if rejected:
            detail = "; ".join(p.message for r in rejected for p in r.errors)
            await self._record(tenant_id, key, what, "untranslatable", [], detail, message)
            return CallbackReceipt("untranslatable", what)
        event_ids = [r.event_id for r in batch.results if r.event_id is not None]
        await self._record(tenant_id, key, what, "ingested", event_ids, None, None)
        return CallbackReceipt("ingested", what, event_ids)

    async def _translate(
        self, tenant_id: str, kind: str, appid: str, message: WeChatMessage
    ) -> list[EventIn]:
        events = wechat_events.translate(kind, appid, message)
        if kind != OA:
            return events
        noted = []
        for event in events:
            scene = event.properties.get("scene")
            hook = await self._store.hooks.by_state(tenant_id, scene) if scene else None
            properties = {**event.properties, "hook_id": hook.id if hook else None}
            noted.append(event.model_copy(update={"properties": properties}))
        return noted

    async def _note_customer(self, tenant_id: str, event: Event, customer: Customer) -> None:
        # Run by the router before it routes the event (live or recovered); each write is safe
        # to repeat.
        now = self._clock()
        scene = event.properties.get("scene")
        if isinstance(scene, str) and scene and event.properties.get("hook_id"):
            await self._store.customers.set_first_touch_hook(tenant_id, customer.id, scene, now)
        consent = _CONSENT.get(event.type)
        if consent is not None:
            granted, source = consent
            await self._store.customers.set_consent(
                tenant_id, customer.id, OA, granted, now, source=source
            )
        template_id = event.properties.get("template_id")
        openid = event.identity.get(MINIPROGRAM_OPENID)
        if event.type == wechat_events.SUBSCRIBE_AUTHORIZED and template_id and openid:
            await self._store.miniprogram_authorizations.grant(
                tenant_id, openid, str(template_id), event.id, now
            )

    async def _record(
        self,
        tenant_id: str,
        key: str,
        kind: str,
        outcome: Literal["ingested", "ignored", "untranslatable"],
        event_ids: list[str],
        detail: str | None,
        message: WeChatMessage | None,
    ) -> None:
        await self._store.wecom_callbacks.record(
            HandledCallback(
                tenant_id=tenant_id,
                key=key,
                kind=kind,
                outcome=outcome,
                event_ids=event_ids,
                detail=detail,
                message=None if message is None else message.fields,
                received_at=self._clock(),
            )
        )

    async def drain(self) -> None:
        """Wait for routing still running in the background (at shutdown, in tests)."""
        await self._ingest.drain()


def _rejected(exc: ValueError) -> CallbackRejectedError:
    reason = str(getattr(exc, "reason", "") or exc) or "rejected"
    return CallbackRejectedError(reason, signature="signature" in reason)
