"""`CustomerRepository`: the one entry point services use for customers.

It reads customers itself and hands each other concern to the module that owns it:
resolution (`resolution.py`), merges (`merges.py`), search (`search.py`) and profile writes
(`profile.py`); documents ↔ models in `documents.py`.

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
from store.customers.profile import ProfileWriter
from store.customers.resolution import Resolver
from store.customers.search import CustomerFinder, CustomerSearch
from store.mongo import CUSTOMERS, ENROLLMENTS, EVENTS, collection
from store.pagination import Page


class CustomerRepository:
    """The `customers` collection (`_id` = customer id)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._customers = collection(db, CUSTOMERS)
        self._merges = CustomerMerges(self._customers, collection(db, EVENTS))
        self._resolver = Resolver(self._customers, self._merges)
        self._finder = CustomerFinder(self._customers, collection(db, ENROLLMENTS))
        self._profiles = ProfileWriter(self._customers, self._merges)

    # --- resolution ---------------------------------------------------------------------------

    async def resolve(
        self, tenant_id: str, identities: dict[str, str], now: datetime
    ) -> tuple[Customer, bool]:
        """The one customer these identities belong to, and whether it was just created.

        Unknown identities create a customer; known ones add the missing identities to theirs;
        identities of several customers merge them into the oldest. Safe under concurrency.
        """
        return await self._resolver.resolve(tenant_id, identities, now)

    # --- merges -------------------------------------------------------------------------------

    async def finish_merges(
        self, now: datetime, tenant_id: str | None = None, limit: int = 100
    ) -> int:
        """Finish merges a crash left half-done (of one tenant, or all); how many were."""
        return await self._merges.finish_all(now, tenant_id, limit)

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

    # --- search -------------------------------------------------------------------------------

    async def search(
        self,
        tenant_id: str,
        search: CustomerSearch,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Customer]:
        """Customers matching `search`, in creation (id) order; `InvalidInputError` on bad criteria."""
        return await self._finder.search(tenant_id, search, cursor=cursor, limit=limit)

    async def count(self, tenant_id: str, search: CustomerSearch) -> int | None:
        """How many customers match `search`; None when that would mean joining collections
        (journey membership combined with profile criteria)."""
        return await self._finder.count(tenant_id, search)

    # --- profile writes -----------------------------------------------------------------------

    async def update_profile(
        self,
        tenant_id: str,
        customer_id: str,
        now: datetime,
        *,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        set_attributes: dict[str, Any] | None = None,
        unset_attributes: list[str] | None = None,
    ) -> Customer:
        """Apply tag and attribute changes in one atomic update (removals before additions).

        A merged customer's changes go to the customer it was merged into.
        """
        return await self._profiles.update_profile(
            tenant_id,
            customer_id,
            now,
            add_tags=add_tags,
            remove_tags=remove_tags,
            set_attributes=set_attributes,
            unset_attributes=unset_attributes,
        )

    async def set_first_touch_hook(
        self, tenant_id: str, customer_id: str, hook: str, now: datetime
    ) -> bool:
        """Record the hook that first brought the customer in, unless one is recorded already."""
        return await self._profiles.set_first_touch_hook(tenant_id, customer_id, hook, now)

    async def set_consent(
        self, tenant_id: str, customer_id: str, channel: str, granted: bool, now: datetime
    ) -> Customer:
        """Record whether the customer agreed to be reached on `channel`."""
        return await self._profiles.set_consent(tenant_id, customer_id, channel, granted, now)
