"""Channel callbacks already handled, so a retried callback changes nothing.

WeCom resends a callback it got no timely `success` for (up to three times), and WeChat a push
(its keys start with `app=`, so they never meet WeCom's). Each handled
callback is recorded once per `(tenant_id, key)` (unique index) with what became of it; records
expire after `RETENTION` (a TTL index), long after WeCom stops retrying.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store.mongo import WECOM_CALLBACKS, Document, collection, without_object_id

RETENTION = timedelta(days=14)

CallbackOutcome = Literal["ingested", "ignored", "untranslatable"]
"""`ingested`: its events are stored; `ignored`: a kind journeys do not react to;
`untranslatable`: a known kind missing fields (kept with its message for inspection)."""


class HandledCallback(BaseModel):
    """One callback and what became of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    key: str
    kind: str
    outcome: CallbackOutcome
    event_ids: list[str] = []
    detail: str | None = None
    message: dict[str, str] | None = None
    received_at: AwareDatetime


class CallbackRepository:
    """The `wecom_callbacks` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._callbacks = collection(db, WECOM_CALLBACKS)

    async def handled(self, tenant_id: str, key: str) -> HandledCallback | None:
        """The record of this callback, or None when it has not been handled."""
        doc = await self._callbacks.find_one({"tenant_id": tenant_id, "key": key})
        return None if doc is None else HandledCallback.model_validate(without_object_id(doc))

    async def record(self, callback: HandledCallback) -> bool:
        """Record a handled callback; False when it was recorded before (a concurrent retry)."""
        doc: Document = callback.model_dump()
        try:
            await self._callbacks.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def count(self, tenant_id: str, since: datetime | None = None) -> int:
        """How many callbacks the tenant has on record (since a time, if given)."""
        query: Document = {"tenant_id": tenant_id}
        if since is not None:
            query["received_at"] = {"$gte": since}
        return await self._callbacks.count_documents(query)
