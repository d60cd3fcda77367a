"""Ledgers for WeCom's per-customer limits: mass-message allowances and customer transfers.

Allowances (`wecom_allowances`): one counter document per (tenant, customer, period) holding
`count` and the idempotency `keys` counted in it. A reservation is one guarded single-document
update — "add this key if it is not there and `count < max`" — so concurrent reservations can
never pass the cap and a retried one never counts twice. A multikey unique index on
(tenant_id, keys) keeps a key in one period only, so a retry that crosses a period boundary
finds its first reservation instead of taking a second. Every period document also keeps a
sentinel of its own in `keys` (a subdocument, never equal to a string key): a multikey index
indexes an empty array as one shared value, so two documents whose keys were all released would
otherwise clash.

Transfers (`wecom_transfers`): one document per transfer, unique per (tenant, key).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store.mongo import WECOM_ALLOWANCES, WECOM_TRANSFERS, Document, collection

# A reservation loses a race only to a reservation that succeeded, so a few rounds always settle.
_MAX_ROUNDS = 5


class AllowanceLedger:
    """How many mass messages each customer was sent per allowance period."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._allowances = collection(db, WECOM_ALLOWANCES)

    async def reserve(
        self, tenant_id: str, external_userid: str, period_key: str, max_count: int, key: str
    ) -> bool:
        """Count one message under `key`; False when the period already holds `max_count`.

        Idempotent: a key already counted (in any period) answers True again.
        """
        if max_count <= 0:
            return await self.holds(tenant_id, key)
        period: Document = {
            "tenant_id": tenant_id,
            "external_userid": external_userid,
            "period_key": period_key,
        }
        guarded = {**period, "keys": {"$ne": key}, "count": {"$lt": max_count}}
        sentinel = {"customer": external_userid, "period": period_key}
        counted = {"$inc": {"count": 1}, "$addToSet": {"keys": {"$each": [sentinel, key]}}}
        for round_ in range(_MAX_ROUNDS):
            if await self.holds(tenant_id, key):
                return True
            try:
                # The first round may create the period's document; an insert racing another
                # one, or a full period, fails on the unique indexes and is sorted out below.
                result = await self._allowances.update_one(guarded, counted, upsert=round_ == 0)
            except DuplicateKeyError:
                continue
            if result.matched_count or result.upserted_id is not None:
                return True
            doc = await self._allowances.find_one(period)
            if doc is not None and doc.get("count", 0) >= max_count:
                return await self.holds(tenant_id, key)
        return await self.holds(tenant_id, key)

    async def release(self, tenant_id: str, key: str) -> bool:
        """Give back the message counted under `key` (WeCom refused it); whether there was one."""
        result = await self._allowances.update_one(
            {"tenant_id": tenant_id, "keys": key}, {"$pull": {"keys": key}, "$inc": {"count": -1}}
        )
        return result.modified_count == 1

    async def used(self, tenant_id: str, external_userid: str, period_key: str) -> int:
        """How many messages the customer has counted in the period."""
        doc = await self._allowances.find_one(
            {"tenant_id": tenant_id, "external_userid": external_userid, "period_key": period_key}
        )
        return 0 if doc is None else int(doc.get("count", 0))

    async def holds(self, tenant_id: str, key: str) -> bool:
        """Whether a message is counted under `key` (an earlier attempt reserved it)."""
        return await self._allowances.find_one({"tenant_id": tenant_id, "keys": key}) is not None


class TransferLedger:
    """The customer transfers made through us, to honour WeCom's 2-per-90-days cap."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._transfers = collection(db, WECOM_TRANSFERS)

    async def record(
        self,
        tenant_id: str,
        external_userid: str,
        at: datetime,
        key: str,
        *,
        handover_userid: str = "",
        takeover_userid: str = "",
    ) -> None:
        """Record one transfer (once per `key`)."""
        # A duplicate key means an earlier attempt with the same key recorded it.
        with contextlib.suppress(DuplicateKeyError):
            await self._transfers.insert_one(
                {
                    "tenant_id": tenant_id,
                    "key": key,
                    "external_userid": external_userid,
                    "at": at,
                    "handover_userid": handover_userid,
                    "takeover_userid": takeover_userid,
                }
            )

    async def recorded(self, tenant_id: str, key: str) -> bool:
        """Whether a transfer was recorded under `key` (an earlier attempt made it)."""
        return await self._transfers.find_one({"tenant_id": tenant_id, "key": key}) is not None

    async def count_since(self, tenant_id: str, external_userid: str, since: datetime) -> int:
        """How many transfers of the customer happened at or after `since`."""
        return await self._transfers.count_documents(
            {"tenant_id": tenant_id, "external_userid": external_userid, "at": {"$gte": since}}
        )
