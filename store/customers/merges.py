"""Merging customers without losing an identity, whatever moment the process dies at.

An identity belongs to at most one live customer (a unique index), so the absorbed customer (the
loser) must give an identity up before the survivor (the winner) can take it; without a
transaction the two writes have a gap. A merge is therefore rolled forward from an intent
recorded on the loser, in steps each of which is safe to stop after and to repeat:

1. claim — one conditional update of the loser (only while it is live) sets `merged_into` and
   `merging_into` to the winner and copies its identities, as they are at that instant, into
   `merge_moving` (still to move) and `merged_identities` (kept for history). The loser keeps
   its identities for now. From here every reader is sent on to the winner (`get` follows
   `merged_into`) and no write adds an identity to the loser (those require `merged_into: None`).
2. fold — the loser's tags, attributes, consents and first-touch hook go to the winner, where it
   lacks them (one atomic pipeline update; repeating it changes nothing).
3. repoint — the loser's events are repointed to the winner.
4. move — each identity in turn: pulled from the loser's `identities`, added to the winner's,
   then pulled from `merge_moving`. At every instant the identity is on the loser, on the
   winner, or (between the first two writes) in the loser's `merge_moving`; identity lookups
   (`documents.identity_lookup`) read both fields, so a resolution never misses it and never
   creates a second customer for it. Moving last means that once no identity leads to the
   loser, only the bookkeeping of step 5 can be left undone.
5. done — `merging_into` and `merge_moving` are unset. `enrollments_settled: False` stays for the
   API's merge service, which ends or keeps the loser's enrollments and then sets it.

`finish` carries out steps 2 to 5 of a claimed merge. Resolution (`resolution.py`) finishes any
merge it meets before answering (a lookup that finds a loser with `merging_into`), and
`unfinished` lists the ones a crash left behind for the start-up sweep (`finish_all`). When the winner is itself merged meanwhile, the merge goes
on into the customer the winner was merged into (the live end of the `merged_into` chain).
Without transactions a merge is thus never undone, only completed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from store.mongo import Document

MAX_MERGE_HOPS = 8
"""How many `merged_into` hops are followed from a customer (to its survivor, or back to the
customers merged into it)."""


async def merged_ids(
    customers: AsyncCollection[Document], tenant_id: str, customer_id: str
) -> list[str]:
    """`customer_id` and the ids of every customer merged into it (directly or not), read from
    the `customers` collection; repositories that hold it share this walk."""
    ids = [customer_id]
    frontier = [customer_id]
    for _ in range(MAX_MERGE_HOPS):
        merged = await customers.find(
            {"tenant_id": tenant_id, "merged_into": {"$in": frontier}}, projection={"_id": 1}
        ).to_list(None)
        frontier = [doc["_id"] for doc in merged if doc["_id"] not in ids]
        if not frontier:
            break
        ids += frontier
    return ids


class CustomerMerges:
    """The steps of a merge over the `customers` and `events` collections (module docstring)."""

    def __init__(
        self,
        customers: AsyncCollection[Document],
        events: AsyncCollection[Document],
    ) -> None:
        self._customers = customers
        self._events = events

    async def claim(
        self, tenant_id: str, winner_id: str, loser_id: str, now: datetime
    ) -> Document | None:
        """Step 1 on a live loser; its claimed document, or None if it was not live."""
        claimed = await self._customers.find_one_and_update(
            {"_id": loser_id, "tenant_id": tenant_id, "merged_into": None},
            [
                {
                    "$set": {
                        "merged_into": winner_id,
                        "merging_into": winner_id,
                        "merge_moving": {"$ifNull": ["$identities", []]},
                        "merged_identities": {"$ifNull": ["$identities", []]},
                        "enrollments_settled": False,
                        "updated_at": now,
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        return claimed

    async def live_end(self, tenant_id: str, customer_id: str) -> Document | None:
        """The live customer at the end of the `merged_into` chain from `customer_id`."""
        current = customer_id
        for _ in range(MAX_MERGE_HOPS):
            doc = await self._customers.find_one({"_id": current, "tenant_id": tenant_id})
            if doc is None:
                return None
            if doc.get("merged_into") is None:
                return doc
            current = doc["merged_into"]
        return None

    async def finish(self, tenant_id: str, loser: Document, now: datetime) -> bool:
        """Steps 2 to 5 of the claimed merge of `loser`; False when the survivor was merged into
        another customer meanwhile (call again: the merge goes on into that one)."""
        target = await self.live_end(tenant_id, loser["merging_into"])
        if target is None:
            return False
        if not await self._fold(tenant_id, target["_id"], loser, now):
            return False
        await self._events.update_many(
            {"tenant_id": tenant_id, "customer_id": loser["_id"]},
            {"$set": {"customer_id": target["_id"]}},
        )
        for element in loser.get("merge_moving", []):
            if not await self._move(tenant_id, loser["_id"], target["_id"], element):
                return False
        await self._customers.update_one(
            {"_id": loser["_id"], "tenant_id": tenant_id},
            {"$unset": {"merging_into": "", "merge_moving": ""}},
        )
        return True

    async def _fold(self, tenant_id: str, target_id: str, loser: Document, now: datetime) -> bool:
        # $literal: the loser's values are data, never expressions. The target's own values win.
        def kept(name: str) -> Document:
            return {
                "$mergeObjects": [
                    {"$literal": loser.get(name) or {}},
                    {"$ifNull": [f"${name}", {}]},
                ]
            }

        stage: Document = {
            "tags": {
                "$setUnion": [{"$ifNull": ["$tags", []]}, {"$literal": loser.get("tags", [])}]
            },
            "attributes": kept("attributes"),
            "consent": kept("consent"),
            "updated_at": now,
        }
        if loser.get("first_touch_hook"):
            stage["first_touch_hook"] = {
                "$ifNull": ["$first_touch_hook", {"$literal": loser["first_touch_hook"]}]
            }
        folded = await self._customers.update_one(
            {"_id": target_id, "tenant_id": tenant_id, "merged_into": None}, [{"$set": stage}]
        )
        return folded.matched_count == 1

    async def _move(self, tenant_id: str, loser_id: str, target_id: str, element: Document) -> bool:
        await self._customers.update_one(
            {"_id": loser_id, "tenant_id": tenant_id}, {"$pull": {"identities": element}}
        )
        try:
            added = await self._customers.update_one(
                {"_id": target_id, "tenant_id": tenant_id, "merged_into": None},
                {"$addToSet": {"identities": element}},
            )
        except DuplicateKeyError:
            # Another customer holds it: only one created for an identity no lookup could find
            # (new at the time), so nothing is lost; the merge lets it be.
            pass
        else:
            if added.matched_count == 0:
                return False  # the target was merged meanwhile; it stays in `merge_moving`
        await self._customers.update_one(
            {"_id": loser_id, "tenant_id": tenant_id}, {"$pull": {"merge_moving": element}}
        )
        return True

    async def finish_all(self, now: datetime, limit: int = 100) -> int:
        """Finish merges a crash left half-done, of any tenant; how many were."""
        finished = 0
        for loser in await self.unfinished(limit):
            if await self.finish(loser["tenant_id"], loser, now):
                finished += 1
        return finished

    async def unfinished(self, limit: int = 100) -> list[Document]:
        """Claimed merges not finished (a crash mid-way), of any tenant, oldest claim first (the
        sweep's read, across tenants by design)."""
        query: Document = {"merging_into": {"$exists": True}}
        return await self._customers.find(query).sort("updated_at", 1).limit(limit).to_list(None)

    async def unsettled(self, tenant_id: str, customer_ids: Sequence[str]) -> list[Document]:
        """The customers among `customer_ids` merged away whose enrollments are not settled."""
        if not customer_ids:
            return []
        found = self._customers.find(
            {
                "tenant_id": tenant_id,
                "_id": {"$in": list(customer_ids)},
                "enrollments_settled": False,
            }
        )
        return await found.sort([("created_at", 1), ("_id", 1)]).to_list(None)

    async def mark_settled(self, tenant_id: str, customer_id: str) -> None:
        """Record that the merged customer's enrollments were dealt with."""
        await self._customers.update_one(
            {"_id": customer_id, "tenant_id": tenant_id}, {"$set": {"enrollments_settled": True}}
        )

    async def all_unsettled(self, limit: int = 100) -> list[Document]:
        """Merged customers of any tenant whose enrollments are not settled (a start-up sweep)."""
        found = self._customers.find(
            {"enrollments_settled": False, "merging_into": {"$exists": False}}
        )
        return await found.sort("updated_at", 1).limit(limit).to_list(None)
