"""`CustomerRepository`: the one entry point services use for customers.

It is composed of one part per concern, each in its own module: resolution (`resolve`, in
`resolution.py`), search (`search`, `count`, in `search.py`) and profile writes
(`update_profile`, `set_first_touch_hook`, `set_consent`, in `profile.py`). Here are the reads
and the merge bookkeeping the merge service asks for (the merge itself is `merges.py`);
documents ↔ models are `documents.py`.

Enrollments and deliveries keep the absorbed customer's id (running workflows keep their ids;
`get` follows `merged_into`); the API's merge service settles its running enrollments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from domain.customers import Customer, Identity, normalize_identity
from domain.errors import NotFoundError
from store.customers.documents import customer_from_doc, identity_lookup
from store.customers.merges import CustomerMerges, merged_ids
from store.customers.profile import CustomerProfiles
from store.customers.resolution import CustomerResolution
from store.customers.search import CustomerSearches
from store.mongo import CUSTOMERS, DEFAULT_MAX_TIME_MS, ENROLLMENTS, EVENTS, collection


class CustomerRepository(CustomerResolution, CustomerSearches, CustomerProfiles):
    """The `customers` collection (`_id` = customer id)."""

    def __init__(self, db: AsyncDatabase[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS) -> None:
        self._customers = collection(db, CUSTOMERS)
        self._enrollments = collection(db, ENROLLMENTS)
        self._max_time_ms = max_time_ms
        self._merges = CustomerMerges(self._customers, collection(db, EVENTS))

    # --- merges -------------------------------------------------------------------------------

    async def finish_merges(self, now: datetime, limit: int = 100) -> int:
        """Finish merges a crash left half-done, of any tenant; how many were."""
        return await self._merges.finish_all(now, limit)

    async def unsettled_merges(self, tenant_id: str, customer_id: str) -> list[str]:
        """Ids of customers merged into this one (directly or not) whose enrollments the merge
        service has not settled yet, oldest first."""
        ids = await merged_ids(self._customers, tenant_id, customer_id)
        return [doc["_id"] for doc in await self._merges.unsettled(tenant_id, ids[1:])]

    async def all_unsettled_merges(self, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant, customer id) of merged customers of any tenant with unsettled enrollments."""
        return [(doc["tenant_id"], doc["_id"]) for doc in await self._merges.all_unsettled(limit)]

    async def mark_merge_settled(self, tenant_id: str, customer_id: str) -> None:
        """Record that the enrollments of this merged customer were settled."""
        await self._merges.mark_settled(tenant_id, customer_id)

    async def with_merged(self, tenant_id: str, customer_id: str) -> list[str]:
        """`customer_id` and the ids of every customer merged into it (directly or not)."""
        return await merged_ids(self._customers, tenant_id, customer_id)

    # --- reads --------------------------------------------------------------------------------

    async def get(self, tenant_id: str, customer_id: str, follow_merges: bool = True) -> Customer:
        """The customer (by default the one it was merged into, if it was); else `NotFoundError`."""
        if follow_merges:
            doc = await self._merges.live_end(tenant_id, customer_id)
        else:
            doc = await self._customers.find_one({"_id": customer_id, "tenant_id": tenant_id})
        if doc is None:
            raise NotFoundError("customer", customer_id)
        return customer_from_doc(doc)

    async def get_by_identity(self, tenant_id: str, kind: str, value: str) -> Customer | None:
        """The live customer with this identity (the value is normalized first), or None."""
        try:
            identity = Identity(kind=kind, value=normalize_identity(kind, value))
        except ValueError:
            return None
        doc = await self._customers.find_one({"tenant_id": tenant_id, **identity_lookup(identity)})
        if doc is not None and doc.get("merged_into") is not None:
            # absorbed mid-merge, the identity not moved yet: it is the survivor's already
            return await self.get(tenant_id, doc["_id"])
        return None if doc is None else customer_from_doc(doc)

    async def get_many(self, tenant_id: str, customer_ids: Sequence[str]) -> dict[str, Customer]:
        """The customers with these ids (as stored: merges not followed), by id; one query."""
        if not customer_ids:
            return {}
        found = self._customers.find(
            {"tenant_id": tenant_id, "_id": {"$in": list(dict.fromkeys(customer_ids))}}
        )
        return {doc["_id"]: customer_from_doc(doc) async for doc in found}
