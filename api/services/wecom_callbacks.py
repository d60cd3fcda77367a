"""WeCom callbacks in (`WeComCallbackService`).

A request names its tenant by the callback id in the URL; the codec checks `msg_signature` before
decrypting and parsing anything, and the inner message must be addressed to the tenant's corp.
The message's de-duplication key (ToUserName, CreateTime, Event, ChangeType and the ids it names)
is looked up among handled callbacks, so a retry WeCom sends after a slow answer changes nothing;
then the message is translated (`domain.wecom_events`) and its events go through the same
`IngestService` as `POST /v1/events` (identity resolution, storage, journey routing). Event ids
derive from the key, so even two concurrent deliveries store one event.

WeCom retries a callback not answered within 5 s, so the answer comes as soon as the events are
stored: routing them to journeys (and noting the staff member and hook on the customer) runs in
the background, owned by the `IngestService` and awaited by `drain` at shutdown. A callback whose
events could not be stored is not recorded and is answered with an error, so WeCom's retry
ingests it again. What a crash between storing and routing loses is told in `ingestion.scheduler`:
the events are stored naming the `CONTACT_PREPARATION` this service registers, so whoever routes
them later (the recovery sweep, a retried dead letter, WeCom sending the callback again) notes
them on their customers first (noting is safe to repeat).

Each callback costs as few MongoDB round trips as it safely can: the tenant's credentials are
read once per `credentials_ttl` seconds per callback URL (a callback they reject is checked again
against the credentials as stored now, so a tenant that just changed its keys is heard at once),
and a `state` once found to name a hook is remembered (a hook's state never changes and its record
is kept; a state naming no hook is looked up again, since a code may be made for it).

Group joins: WeCom's `change_external_chat` callback carries no `State`, only the chat and the
members that changed. When a join callback lacks the state and a `GroupDirectory` is given, the
group's member list (`groupchat/get`) supplies each joining member's join-way state (and so the
hook), best-effort within `lookup_timeout`: when the lookup fails the events are stored without
a state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from api.services.ports import CallbackCodec, Clock, GroupDirectory, utc_now
from api.services.wecom_settings import WeComNotConfiguredError
from domain import wecom_events
from domain.channels import WeComCredentials
from domain.customers import EXTERNAL_USERID, PHONE, Customer
from domain.errors import DomainError, InvalidInputError
from domain.events import Event, EventIn
from domain.wecom_events import FOLLOW_USER_ATTRIBUTE, GroupMember
from ingestion.results import IngestResult
from ingestion.service import IngestService
from store.callbacks import HandledCallback
from store.database import Store

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/v1/callbacks/wecom/{callback_id}"
CONTACT_PREPARATION = "wecom.note_contact"
"""The preparation WeCom's events are stored with: note the staff member and hook on the
customer before routing (so the welcome goes out from the right staff member)."""


class UnknownCallbackUrlError(DomainError):
    """No tenant's callback URL ends in this id."""


class CallbackRejectedError(DomainError):
    """The request does not check out (signature, encryption, addressee); nothing was kept.

    `signature` tells a bad signature (answered 403) from a malformed request (400)."""

    def __init__(self, reason: str, *, signature: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signature = signature


class CallbackNotStoredError(DomainError):
    """Storing the callback's events failed; WeCom should send it again."""


_MAX_CACHED = 10_000
"""Entries per in-process cache (callback credentials, hook ids); a full cache starts over."""

ReceiptStatus = Literal["ingested", "duplicate", "ignored", "untranslatable"]


@dataclass(frozen=True, slots=True)
class CallbackReceipt:
    """What became of one callback; `ingested` means its events are stored (routing may still
    be running)."""

    status: ReceiptStatus
    kind: str
    event_ids: list[str] = field(default_factory=list)


def callback_path(callback_id: str) -> str:
    """The path of a tenant's callback URL."""
    return CALLBACK_PATH.format(callback_id=callback_id)


class WeComCallbackService:
    """Verifies, de-duplicates, translates and ingests WeCom callbacks (module docstring)."""

    def __init__(
        self,
        store: Store,
        ingest: IngestService,
        codec: CallbackCodec | None,
        clock: Clock = utc_now,
        *,
        groups: GroupDirectory | None = None,
        lookup_timeout: float = 2.0,
        credentials_ttl: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ingest = ingest
        self._codec = codec
        self._clock = clock
        self._groups = groups
        self._lookup_timeout = lookup_timeout
        self._credentials_ttl = credentials_ttl
        self._monotonic = monotonic
        # callback id → (read at, credentials): a burst of callbacks reads them once.
        self._by_callback: dict[str, tuple[float, WeComCredentials]] = {}
        # (tenant, state) → hook id: a hook's state never changes and its record is never
        # removed, so a hook once found stays the answer (a miss is not kept: codes are new).
        self._hook_ids: dict[tuple[str, str], str] = {}
        ingest.register_preparation(CONTACT_PREPARATION, self._note_contact)

    @property
    def configured(self) -> bool:
        """Whether this server can open callbacks at all."""
        return self._codec is not None

    async def _credentials(
        self, callback_id: str, *, fresh: bool = False
    ) -> tuple[CallbackCodec, WeComCredentials]:
        """The codec and the tenant's credentials, read at most `credentials_ttl` seconds ago
        unless `fresh`."""
        if self._codec is None:
            raise WeComNotConfiguredError("WeCom callbacks are not configured on this server")
        now = self._monotonic()
        cached = self._by_callback.get(callback_id)
        if not fresh and cached is not None and now - cached[0] < self._credentials_ttl:
            return self._codec, cached[1]
        credentials = await self._store.wecom_credentials.by_callback_id(callback_id)
        if credentials is None:
            self._by_callback.pop(callback_id, None)
            raise UnknownCallbackUrlError("no such callback URL")
        if len(self._by_callback) >= _MAX_CACHED:
            self._by_callback.clear()
        self._by_callback[callback_id] = (now, credentials)
        return self._codec, credentials

    def _cached(self, callback_id: str, credentials: WeComCredentials) -> bool:
        found = self._by_callback.get(callback_id)
        return found is not None and found[1] is credentials

    async def check_url(self, callback_id: str) -> None:
        """Raise `WeComNotConfiguredError` / `UnknownCallbackUrlError` unless the URL is a tenant's."""
        await self._credentials(callback_id)

    async def verify_url(
        self, callback_id: str, msg_signature: str, timestamp: str, nonce: str, echostr: str
    ) -> str:
        """The decrypted echostr for WeCom's URL verification."""
        codec, credentials = await self._credentials(callback_id, fresh=True)
        try:
            return codec.verify_url(credentials, msg_signature, timestamp, nonce, echostr)
        except ValueError as exc:
            raise _rejected(exc) from exc

    async def receive(
        self, callback_id: str, msg_signature: str, timestamp: str, nonce: str, body: bytes
    ) -> CallbackReceipt:
        """Handle one callback POST; raises the errors above when it must not be acknowledged."""
        codec, credentials = await self._credentials(callback_id)
        try:
            message = self._open(codec, credentials, msg_signature, timestamp, nonce, body)
        except CallbackRejectedError:
            if not self._cached(callback_id, credentials):
                raise
            # The tenant may have just changed its token, key or corp: check against the
            # credentials as stored now before refusing.
            codec, credentials = await self._credentials(callback_id, fresh=True)
            message = self._open(codec, credentials, msg_signature, timestamp, nonce, body)
        tenant_id = credentials.tenant_id
        key = wecom_events.dedupe_key(message)
        kind = wecom_events.kind_of(message)
        handled = await self._store.wecom_callbacks.handled(tenant_id, key)
        if handled is not None:
            return CallbackReceipt("duplicate", kind, list(handled.event_ids))
        try:
            events = await self._translate(tenant_id, credentials.corp_id, message)
        except ValueError as exc:
            # Retrying cannot fix a message that lacks fields: keep it for inspection, ack it.
            logger.warning(
                "WeCom callback %s of tenant %s untranslatable: %s", kind, tenant_id, exc
            )
            await self._record(tenant_id, key, kind, "untranslatable", [], str(exc), message)
            return CallbackReceipt("untranslatable", kind)
        if not events:
            logger.info("WeCom callback %s of tenant %s ignored", kind, tenant_id)
            await self._record(tenant_id, key, kind, "ignored", [], None, message)
            return CallbackReceipt("ignored", kind)
        return await self._store_and_record(tenant_id, key, kind, events, message)

    @staticmethod
    def _open(
        codec: CallbackCodec,
        credentials: WeComCredentials,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
    ) -> dict[str, str]:
        try:
            message = codec.open(credentials, msg_signature, timestamp, nonce, body)
        except ValueError as exc:
            raise _rejected(exc) from exc
        if message.get("ToUserName", "").strip() != credentials.corp_id:
            raise CallbackRejectedError("the message is addressed to another corp")
        return message

    async def _translate(
        self, tenant_id: str, corp_id: str, message: dict[str, str]
    ) -> list[EventIn]:
        if (
            message.get("Event") == "change_external_chat"
            and message.get("UpdateDetail") == "add_member"
        ):
            return await self._translate_join(tenant_id, corp_id, message)
        hook_id = await self._hook_for(tenant_id, message.get("State", "").strip())
        if message.get("Event") == "change_external_chat":
            events = []
            for member in wecom_events.group_members(message):
                event = wecom_events.translate(message, corp_id, hook_id=hook_id, member=member)
                if event is not None:
                    events.append(event)
            return events
        event = wecom_events.translate(message, corp_id, hook_id=hook_id)
        return [] if event is None else [event]

    async def _translate_join(
        self, tenant_id: str, corp_id: str, message: dict[str, str]
    ) -> list[EventIn]:
        state = message.get("State", "").strip()
        listed = None
        if not state or not wecom_events.group_members(message):
            listed = await self._members_of(tenant_id, message.get("ChatId", "").strip())
        events = []
        for member, found in wecom_events.joining_members(message, listed):
            member_state = found.state if found is not None and not state else None
            hook_id = await self._hook_for(tenant_id, member_state or state)
            event = wecom_events.translate(
                message,
                corp_id,
                hook_id=hook_id,
                member=member,
                member_state=member_state,
                member_join_scene=found.join_scene if found is not None else None,
            )
            if event is not None:
                events.append(event)
        return events

    async def _members_of(self, tenant_id: str, chat_id: str) -> list[GroupMember] | None:
        if self._groups is None or not chat_id:
            return None
        try:
            async with asyncio.timeout(self._lookup_timeout):
                return await self._groups.group_members(tenant_id, chat_id)
        except Exception as exc:
            # Best-effort: the join is still worth storing, just without its join way.
            logger.warning(
                "WeCom group %s of tenant %s: member lookup failed (%s: %s); "
                "storing the join without its state",
                chat_id,
                tenant_id,
                type(exc).__name__,
                exc,
            )
            return None

    async def _hook_for(self, tenant_id: str, state: str) -> str | None:
        if not state:
            return None
        known = self._hook_ids.get((tenant_id, state))
        if known is not None:
            return known
        hook = await self._store.hooks.by_state(tenant_id, state)
        if hook is None:
            return None
        if len(self._hook_ids) >= _MAX_CACHED:
            self._hook_ids.clear()
        self._hook_ids[(tenant_id, state)] = hook.id
        return hook.id

    async def _store_and_record(
        self,
        tenant_id: str,
        key: str,
        kind: str,
        events: list[EventIn],
        message: dict[str, str],
    ) -> CallbackReceipt:
        raw = [event.model_dump(mode="json") for event in events]
        batch = await self._ingest.store_then_route_later(
            tenant_id, raw, prepare=CONTACT_PREPARATION
        )
        results = batch.results
        failed = [r for r in results if r.status == "failed"]
        if failed:
            raise CallbackNotStoredError(_problems(failed))
        rejected = [r for r in results if r.status == "rejected"]
        if rejected:
            detail = _problems(rejected)
            logger.warning("WeCom callback %s of tenant %s rejected: %s", kind, tenant_id, detail)
            await self._record(tenant_id, key, kind, "untranslatable", [], detail, message)
            return CallbackReceipt("untranslatable", kind)
        event_ids = [r.event_id for r in results if r.event_id is not None]
        await self._record(tenant_id, key, kind, "ingested", event_ids, None, None)
        return CallbackReceipt("ingested", kind, event_ids)

    async def _note_contact(
        self, tenant_id: str, event: Event, customer: Customer
    ) -> Customer | None:
        # The staff member who added the customer is whom later 1:1 tasks are sent from, and
        # the hook's state is their first touch. Run by the router before it routes the event
        # (live or recovered), so the welcome is sent from the right staff member.
        if event.type != wecom_events.CONTACT_ADDED:
            return None
        linked = await self._link_contact(tenant_id, customer)
        customer_id = (linked or customer).id
        now = self._clock()
        writes: list[Awaitable[object]] = []
        staff = event.properties.get("staff_userid")
        if isinstance(staff, str) and staff:
            writes.append(
                self._store.customers.update_profile(
                    tenant_id, customer_id, now, set_attributes={FOLLOW_USER_ATTRIBUTE: staff}
                )
            )
        state = event.properties.get("state")
        if isinstance(state, str) and state and event.properties.get("hook_id"):
            writes.append(
                self._store.customers.set_first_touch_hook(tenant_id, customer_id, state, now)
            )
        # Independent single-document updates: routing (and the welcome) waits for both.
        for outcome in await asyncio.gather(*writes, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
        return linked

    async def _link_contact(self, tenant_id: str, customer: Customer) -> Customer | None:
        """Link what WeCom knows of the contact (unionid, a phone the staff recorded) to the
        customer; when another customer already had one of them (a lead's phone, an Official
        Account follower's unionid), the two merge and the survivor is answered. Best effort:
        without it the event is routed as it came."""
        external_userid = customer.identity(EXTERNAL_USERID)
        if self._groups is None or external_userid is None:
            return None
        try:
            known = await asyncio.wait_for(
                self._groups.contact_identities(tenant_id, external_userid), self._lookup_timeout
            )
        except Exception as exc:  # a lookup failure must not hold the welcome back
            logger.warning("WeCom contact lookup of tenant %s failed: %s", tenant_id, exc)
            return None
        extra = {kind: value for kind, value in known.items() if customer.identity(kind) is None}
        phone = extra.get(PHONE)
        if phone is not None:
            # A recorded phone is typed by staff: it links a customer who has no WeCom contact
            # yet (a lead), never one who is another WeCom contact (a typo, a colleague's number).
            owner = await self._store.customers.get_by_identity(tenant_id, PHONE, phone)
            other = None if owner is None else owner.identity(EXTERNAL_USERID)
            if other is not None and other != external_userid:
                del extra[PHONE]
        if not extra:
            return None
        try:
            resolved, _ = await self._store.customers.resolve(
                tenant_id, {EXTERNAL_USERID: external_userid, **extra}, self._clock()
            )
        except InvalidInputError as exc:  # e.g. a recorded "phone" that is no phone number
            logger.warning("WeCom contact identities of tenant %s unusable: %s", tenant_id, exc)
            return None
        return resolved if resolved.id != customer.id else None

    async def _record(
        self,
        tenant_id: str,
        key: str,
        kind: str,
        outcome: Literal["ingested", "ignored", "untranslatable"],
        event_ids: list[str],
        detail: str | None,
        message: dict[str, str] | None,
    ) -> None:
        await self._store.wecom_callbacks.record(
            HandledCallback(
                tenant_id=tenant_id,
                key=key,
                kind=kind,
                outcome=outcome,
                event_ids=event_ids,
                detail=detail,
                message=message,
                received_at=self._clock(),
            )
        )

    async def drain(self) -> None:
        """Wait for routing still running in the background (at shutdown, in tests)."""
        await self._ingest.drain()


def _rejected(exc: ValueError) -> CallbackRejectedError:
    reason = str(getattr(exc, "reason", "") or exc) or "rejected"
    return CallbackRejectedError(reason, signature="signature" in reason)


def _problems(results: list[IngestResult]) -> str:
    return "; ".join(f"{p.path or '(event)'}: {p.message}" for r in results for p in r.errors)
