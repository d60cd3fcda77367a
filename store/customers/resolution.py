"""Identity resolution: the one customer a set of identities belongs to.

One identity belongs to at most one live customer per tenant; a unique multikey index on
`(tenant_id, identities.kind, identities.value)` enforces it (partial on `identities.kind`
existing, so merged records, whose identities are moved away, do not collide). Resolution is
optimistic: read, write, and on a duplicate-key error read again.

Identities of several customers merge them: the oldest customer wins, and each younger one is
folded into it by the roll-forward merge of `store.customers.merges`. A lookup that meets a merge
left half-done (by a crash or a concurrent request) finishes it before answering.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.customers import Customer, Identity, identities_from_mapping
from domain.errors import ConflictError, FieldProblem, InvalidInputError
from store.customers.documents import (
    customer_from_doc,
    customer_to_doc,
    identity_element,
    identity_lookup,
)
from store.customers.merges import CustomerMerges
from store.ids import new_id
from store.mongo import Document

MAX_RESOLVE_ATTEMPTS = 8


def _valid_identities(identities: dict[str, str]) -> list[Identity]:
    """The identities as models; `InvalidInputError` naming every bad one."""
    if not identities:
        raise InvalidInputError.single("identity", "at least one identity is required")
    problems: list[FieldProblem] = []
    for kind, value in identities.items():
        try:
            Identity(kind=kind, value=value)
        except ValidationError as exc:
            problems += [
                FieldProblem(path=f"identity.{kind}", message=item["msg"])
                for item in exc.errors(include_url=False)
            ]
    if problems:
        raise InvalidInputError(problems)
    return identities_from_mapping(identities)


class CustomerResolution:
    """Identity resolution of `CustomerRepository`, over its `customers` collection and merges
    (module docstring)."""

    _customers: AsyncCollection[Document]
    _merges: CustomerMerges

    async def resolve(
        self, tenant_id: str, identities: dict[str, str], now: datetime
    ) -> tuple[Customer, bool]:
        """The one customer these identities belong to, and whether it was just created.

        Unknown identities create a customer; known ones add the missing identities to theirs;
        identities of several customers merge them into the oldest. Safe under concurrency.
        """
        wanted = _valid_identities(identities)
        for _ in range(MAX_RESOLVE_ATTEMPTS):
            docs = (
                await self._customers.find(
                    {"tenant_id": tenant_id, "$or": [identity_lookup(i) for i in wanted]}
                )
                .sort([("created_at", 1), ("_id", 1)])
                .to_list(None)
            )
            unfinished = [doc for doc in docs if doc.get("merging_into") is not None]
            if unfinished:
                # A merge a crash (or a concurrent request) left half-done: finish it first.
                for doc in unfinished:
                    await self._merges.finish(tenant_id, doc, now)
                continue
            if not docs:
                created = await self._try_create(tenant_id, wanted, now)
                if created is not None:
                    return created, True
                continue
            winner = docs[0]
            if len(docs) > 1:
                merged = await self._merge(tenant_id, winner, docs[1:], now)
                if merged is None:
                    continue
                winner = merged
            have = {(i["kind"], i["value"]) for i in winner.get("identities", [])}
            missing = [identity_element(i) for i in wanted if (i.kind, i.value) not in have]
            if not missing:
                return customer_from_doc(winner), False
            try:
                updated = await self._customers.find_one_and_update(
                    {"_id": winner["_id"], "tenant_id": tenant_id, "merged_into": None},
                    {
                        "$addToSet": {"identities": {"$each": missing}},
                        "$set": {"updated_at": now},
                    },
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue  # another request claimed one of them meanwhile: look again
            if updated is not None:
                return customer_from_doc(updated), False
        raise ConflictError("identity resolution kept racing with concurrent writes; retry")

    async def _try_create(
        self, tenant_id: str, identities: list[Identity], now: datetime
    ) -> Customer | None:
        customer = Customer(
            id=new_id("cus"),
            tenant_id=tenant_id,
            identities=identities,
            created_at=now,
            updated_at=now,
        )
        try:
            await self._customers.insert_one(customer_to_doc(customer))
        except DuplicateKeyError:
            return None
        return customer

    async def _merge(
        self, tenant_id: str, winner: Document, losers: list[Document], now: datetime
    ) -> Document | None:
        """Fold `losers` into `winner` (`store.customers.merges`); the winner's new document, or
        None if it was merged meanwhile."""
        for loser in losers:
            claimed = await self._merges.claim(tenant_id, winner["_id"], loser["_id"], now)
            # not live any more: merged by a concurrent request, which finishes it (or we do,
            # when the next lookup meets it)
            if claimed is not None and not await self._merges.finish(tenant_id, claimed, now):
                return None
        return await self._customers.find_one(
            {"_id": winner["_id"], "tenant_id": tenant_id, "merged_into": None}
        )
