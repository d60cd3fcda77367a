"""Mini-program one-time subscription authorisations, counted per (tenant, openid, template).

Each time a user accepts a template in the mini-program's subscription popup, WeChat allows one
`subscribe/send` of it to them. The customer is counted by their mini-program openid (as WeChat
counts), not by customer id, so authorisations survive a merge of two customer records into one.
One document per (tenant, openid, template) counts what is left
(`count`). A grant is recorded once per grant key (the event that reported it) and a send spends
one once per idempotency key; both keep their recent keys in the document (`grants`, `keys`,
the last `KEPT_KEYS` of each), so every change is one atomic single-document update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store.mongo import MINIPROGRAM_AUTHORIZATIONS, collection

KEPT_KEYS = 200


def _doc_id(tenant_id: str, openid: str, template_id: str) -> str:
    return f"{tenant_id}:{openid}:{template_id}"


class AuthorizationLedger:
    """The `miniprogram_authorizations` collection."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._authorizations = collection(db, MINIPROGRAM_AUTHORIZATIONS)

    async def grant(
        self, tenant_id: str, openid: str, template_id: str, grant_key: str, now: datetime
    ) -> bool:
        """Count one authorisation, once per `grant_key`; False when it was counted before."""
        doc_id = _doc_id(tenant_id, openid, template_id)
        try:
            await self._authorizations.update_one(
                {"_id": doc_id, "tenant_id": tenant_id, "grants": {"$ne": grant_key}},
                {
                    "$inc": {"count": 1},
                    "$push": {"grants": {"$each": [grant_key], "$slice": -KEPT_KEYS}},
                    "$set": {"updated_at": now},
                    "$setOnInsert": {
                        "openid": openid,
                        "template_id": template_id,
                        "keys": [],
                    },
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists and already holds the grant key
        return True

    async def consume(self, tenant_id: str, openid: str, template_id: str, key: str) -> bool:
        """Spend one authorisation under `key`; True also when `key` spent one before, False
        when none is left."""
        doc_id = _doc_id(tenant_id, openid, template_id)
        spent = await self._authorizations.find_one_and_update(
            {"_id": doc_id, "tenant_id": tenant_id, "count": {"$gt": 0}, "keys": {"$ne": key}},
            {"$inc": {"count": -1}, "$push": {"keys": {"$each": [key], "$slice": -KEPT_KEYS}}},
        )
        if spent is not None:
            return True
        earlier = await self._authorizations.find_one(
            {"_id": doc_id, "tenant_id": tenant_id, "keys": key}, {"_id": 1}
        )
        return earlier is not None

    async def release(self, tenant_id: str, openid: str, template_id: str, key: str) -> bool:
        """Give back the authorisation spent under `key`; whether one was."""
        result = await self._authorizations.update_one(
            {
                "_id": _doc_id(tenant_id, openid, template_id),
                "tenant_id": tenant_id,
                "keys": key,
            },
            {"$inc": {"count": 1}, "$pull": {"keys": key}},
        )
        return result.modified_count == 1

    async def remaining(self, tenant_id: str, openid: str, template_id: str) -> int:
        """How many sends of the template the user still allows."""
        doc = await self._authorizations.find_one(
            {"_id": _doc_id(tenant_id, openid, template_id), "tenant_id": tenant_id}
        )
        return 0 if doc is None else int(doc.get("count", 0))
