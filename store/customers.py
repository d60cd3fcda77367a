"""Customers: identity resolution, profiles, and listing.

One identity belongs to at most one live customer per tenant; a unique multikey index on
`(tenant_id, identities.kind, identities.value)` enforces it (partial on `identities.kind`
existing, so merged records, whose identities are moved away, do not collide). Resolution is
optimistic: read, write, and on a duplicate-key error read again.

Merging (an event names identities of several customers): the oldest customer wins. Each younger
one is claimed with a conditional update that sets `merged_into`; the winner gains its
identities and tags, the attributes and consents it lacks, and a first-touch hook if it had none;
its events are repointed to the winner. The steps are rolled forward from an intent recorded on
the claimed customer, so a crash at any point loses no identity and the next resolution meeting
the half-done merge (or `finish_merges`, at start-up) completes it: see `store.customer_merges`.
Enrollments and deliveries keep the absorbed customer's id (running workflows keep their ids;
`get` follows `merged_into`); the API's merge service settles its running enrollments.

Search (`search`, `count`) combines identity, tags, attribute equality, first-touch hook and
journey membership. Indexes serve each: `identity_unique` and `by_identity_value` (identities),
`by_tag`, `by_hook`, `by_attribute` (a wildcard index on `attributes`) and, for journey
membership, `by_journey_node_customer` on enrollments. Journey membership is read from the
enrollment projections in customer-id order, a batch at a time, then the customers of each batch
are read with the other filters; both orders are the customer id, so one keyset cursor serves.
Enrollments keep the customer id they started with, so a customer merged away is found under its
own (merged) record, which search leaves out.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.customers import (
    WELL_KNOWN_IDENTITY_KINDS,
    Customer,
    Identity,
    identities_from_mapping,
    normalize_identity,
)
from domain.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from store.customer_merges import MERGE_FIELDS, CustomerMerges, identity_lookup
from store.ids import new_id
from store.mongo import CUSTOMERS, ENROLLMENTS, EVENTS, Document, collection, id_to_field
from store.pagination import Page, after, collect, decode_cursor, encode_cursor, page_of, page_size

MAX_RESOLVE_ATTEMPTS = 8
MAX_MERGE_HOPS = 8
JOURNEY_SCAN_BATCH = 500
MAX_JOURNEY_SCAN_BATCHES = 20


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


@dataclass(frozen=True)
class CustomerSearch:
    """What `CustomerRepository.search` filters on; every given criterion must hold.

    `identity_kind` narrows `identity_value` to one kind; without it the value matches an
    identity of any kind (as typed, or normalized as a phone or an e-mail).
    `journey_id` selects customers with an enrollment in that journey, narrowed by the
    enrollment's current node and status.
    """

    identity_kind: str | None = None
    identity_value: str | None = None
    tags_all: Sequence[str] = ()
    tags_any: Sequence[str] = ()
    attributes: Mapping[str, Any] = dataclass_field(default_factory=dict)
    hook: str | None = None
    journey_id: str | None = None
    journey_node: str | None = None
    journey_statuses: Sequence[str] = ()
    include_merged: bool = False

    @property
    def journey_only(self) -> bool:
        """Whether nothing but the journey criteria is set."""
        return not (
            self.identity_value is not None
            or self.tags_all
            or self.tags_any
            or self.attributes
            or self.hook is not None
        )


def _customer(doc: Document) -> Customer:
    data = id_to_field(doc)
    for name in MERGE_FIELDS:
        data.pop(name, None)
    return Customer.model_validate(data)


def _identity_doc(identity: Identity) -> Document:
    return {"kind": identity.kind, "value": identity.value}


def _identity_filter(identity: Identity) -> Document:
    # The plain equality terms let MongoDB use the partial unique index; $elemMatch makes the
    # kind and value belong to the same array element.
    return {
        "identities.kind": identity.kind,
        "identities.value": identity.value,
        "identities": {"$elemMatch": {"kind": identity.kind, "value": identity.value}},
    }


def _identity_values(value: str) -> builtins.list[str]:
    """`value` as typed and as each well-known kind would normalize it."""
    values = [value.strip()]
    for kind in WELL_KNOWN_IDENTITY_KINDS:
        try:
            normalized = normalize_identity(kind, value)
        except ValueError:
            continue
        if normalized not in values:
            values.append(normalized)
    return values


def _has_operator_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(k).startswith("$") or _has_operator_key(v) for k, v in value.items())
    if isinstance(value, builtins.list):
        return any(_has_operator_key(item) for item in value)
    return False


def _search_query(tenant_id: str, search: CustomerSearch) -> Document:
    """The customers filter of `search` (journey membership aside); `InvalidInputError` when bad."""
    query: Document = {"tenant_id": tenant_id}
    terms: builtins.list[Document] = []
    if not search.include_merged:
        query["merged_into"] = None
    if search.identity_value is not None:
        if search.identity_kind is not None:
            try:
                identity = Identity(kind=search.identity_kind, value=search.identity_value)
            except ValidationError as exc:
                raise InvalidInputError.single(
                    "filter.identity", exc.errors(include_url=False)[0]["msg"]
                ) from exc
            query.update(_identity_filter(identity))
        else:
            values = _identity_values(search.identity_value)
            if not values[0]:
                raise InvalidInputError.single("filter.identity.value", "cannot be empty")
            query["identities.value"] = {"$in": values}
    if search.tags_all:
        terms.append({"tags": {"$all": builtins.list(search.tags_all)}})
    if search.tags_any:
        terms.append({"tags": {"$in": builtins.list(search.tags_any)}})
    if search.attributes:
        _check_attribute_names(builtins.list(search.attributes), "filter.attributes")
        for key, value in search.attributes.items():
            if _has_operator_key(value):
                raise InvalidInputError.single(
                    f"filter.attributes.{key}", "values cannot hold keys starting with '$'"
                )
            # $eq: the value is compared as data, never read as an operator document.
            query[f"attributes.{key}"] = {"$eq": value}
    if search.hook is not None:
        query["first_touch_hook"] = search.hook
    if terms:
        query["$and"] = terms
    return query


def _journey_query(tenant_id: str, search: CustomerSearch) -> Document:
    query: Document = {"tenant_id": tenant_id, "journey_id": search.journey_id}
    if search.journey_node is not None:
        query["current_node"] = search.journey_node
    if search.journey_statuses:
        query["status"] = {"$in": builtins.list(search.journey_statuses)}
    return query


def _check_attribute_names(names: list[str], path: str) -> None:
    bad = [name for name in names if not name or "." in name or name.startswith("$")]
    if bad:
        raise InvalidInputError.single(
            path, f"attribute names cannot be empty, contain '.' or start with '$': {bad}"
        )


class CustomerRepository:
    """The `customers` collection (`_id` = customer id)."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._customers = collection(db, CUSTOMERS)
        self._events = collection(db, EVENTS)
        self._enrollments = collection(db, ENROLLMENTS)
        self._merges = CustomerMerges(self._customers, self._events)

    # --- resolution ---------------------------------------------------------------------------

    async def resolve(
        self, tenant_id: str, identities: dict[str, str], now: datetime
    ) -> tuple[Customer, bool]:
        """The one customer these identities belong to, and whether it was just created.

        Unknown identities create a customer; known ones add the missing identities to theirs;
        identities of several customers merge them into the oldest. Safe under concurrency.
        """
        if not identities:
            raise InvalidInputError.single("identity", "at least one identity is required")
        problems: builtins.list[FieldProblem] = []
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
        wanted = identities_from_mapping(identities)
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
            missing = [_identity_doc(i) for i in wanted if (i.kind, i.value) not in have]
            if not missing:
                return _customer(winner), False
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
                return _customer(updated), False
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
        doc = customer.model_dump(exclude={"id"})
        doc["_id"] = customer.id
        try:
            await self._customers.insert_one(doc)
        except DuplicateKeyError:
            return None
        return customer

    async def _merge(
        self, tenant_id: str, winner: Document, losers: list[Document], now: datetime
    ) -> Document | None:
        """Fold `losers` into `winner` (`store.customer_merges`); the winner's new document, or
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

    async def finish_merges(
        self, now: datetime, tenant_id: str | None = None, limit: int = 100
    ) -> int:
        """Finish merges a crash left half-done (of one tenant, or all); how many were."""
        finished = 0
        for loser in await self._merges.unfinished(tenant_id, limit):
            if await self._merges.finish(loser["tenant_id"], loser, now):
                finished += 1
        return finished

    async def unsettled_merges(self, tenant_id: str, customer_id: str) -> builtins.list[str]:
        """Ids of customers merged into this one (directly or not) whose enrollments the merge
        service has not settled yet, oldest first."""
        ids = await merged_ids(self._customers, tenant_id, customer_id)
        return [doc["_id"] for doc in await self._merges.unsettled(tenant_id, ids[1:])]

    async def all_unsettled_merges(self, limit: int = 100) -> builtins.list[tuple[str, str]]:
        """(tenant, customer id) of merged customers of any tenant with unsettled enrollments."""
        return [(doc["tenant_id"], doc["_id"]) for doc in await self._merges.all_unsettled(limit)]

    async def mark_merge_settled(self, tenant_id: str, customer_id: str) -> None:
        """Record that the enrollments of this merged customer were settled."""
        await self._merges.mark_settled(tenant_id, customer_id)

    # --- reads --------------------------------------------------------------------------------

    async def get(self, tenant_id: str, customer_id: str, follow_merges: bool = True) -> Customer:
        """The customer (by default the one it was merged into, if it was); else `NotFoundError`."""
        current = customer_id
        for _ in range(MAX_MERGE_HOPS):
            doc = await self._customers.find_one({"_id": current, "tenant_id": tenant_id})
            if doc is None:
                raise NotFoundError("customer", customer_id)
            if not follow_merges or doc.get("merged_into") is None:
                return _customer(doc)
            current = doc["merged_into"]
        raise NotFoundError("customer", customer_id)

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
        return None if doc is None else _customer(doc)

    async def list(
        self,
        tenant_id: str,
        *,
        tag: str | None = None,
        attributes: dict[str, Any] | None = None,
        identity_kind: str | None = None,
        include_merged: bool = False,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Customer]:
        """Customers in creation order, filtered by tag, attribute equality and identity kind."""
        query: Document = {"tenant_id": tenant_id}
        if not include_merged:
            query["merged_into"] = None
        if tag is not None:
            query["tags"] = tag
        if attributes:
            _check_attribute_names(list(attributes), "attributes")
            for key, value in attributes.items():
                query[f"attributes.{key}"] = value
        if identity_kind is not None:
            query["identities.kind"] = identity_kind
        if cursor is not None:
            query = {"$and": [query, after(["_id"], decode_cursor(cursor, 1))]}
        size = page_size(limit)
        found = self._customers.find(query).sort("_id", 1).limit(size + 1)
        return await collect(found, ["_id"], size, _customer)

    async def get_many(self, tenant_id: str, customer_ids: Sequence[str]) -> dict[str, Customer]:
        """The customers with these ids (as stored: merges not followed), by id; one query."""
        if not customer_ids:
            return {}
        found = self._customers.find(
            {"tenant_id": tenant_id, "_id": {"$in": builtins.list(dict.fromkeys(customer_ids))}}
        )
        return {doc["_id"]: _customer(doc) async for doc in found}

    async def with_merged(self, tenant_id: str, customer_id: str) -> builtins.list[str]:
        """`customer_id` and the ids of every customer merged into it (directly or not)."""
        return await merged_ids(self._customers, tenant_id, customer_id)

    async def search(
        self,
        tenant_id: str,
        search: CustomerSearch,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Customer]:
        """Customers matching `search`, in creation (id) order; `InvalidInputError` on bad criteria."""
        query = _search_query(tenant_id, search)
        size = page_size(limit)
        last = decode_cursor(cursor, 1)[0] if cursor is not None else None
        if search.journey_id is None:
            if last is not None:
                query = {"$and": [query, {"_id": {"$gt": last}}]}
            found = self._customers.find(query).sort("_id", 1).limit(size + 1)
            return await collect(found, ["_id"], size, _customer)
        return await self._search_in_journey(tenant_id, search, query, last, size)

    async def _search_in_journey(
        self, tenant_id: str, search: CustomerSearch, query: Document, last: Any, size: int
    ) -> Page[Customer]:
        members = _journey_query(tenant_id, search)
        docs: builtins.list[Document] = []
        scanned = last
        for _ in range(MAX_JOURNEY_SCAN_BATCHES):
            scope = members if scanned is None else {**members, "customer_id": {"$gt": scanned}}
            batch = (
                await self._enrollments.find(scope, projection={"customer_id": 1, "_id": 0})
                .sort("customer_id", 1)
                .limit(JOURNEY_SCAN_BATCH)
                .to_list(None)
            )
            ids = builtins.list(dict.fromkeys(doc["customer_id"] for doc in batch))
            if ids:
                docs += (
                    await self._customers.find({**query, "_id": {"$in": ids}})
                    .sort("_id", 1)
                    .limit(size + 1 - len(docs))
                    .to_list(None)
                )
            if len(docs) > size:
                return page_of(docs, ["_id"], size, _customer)
            if len(batch) < JOURNEY_SCAN_BATCH:
                return page_of(docs, ["_id"], size, _customer)
            scanned = batch[-1]["customer_id"]
        # Scanned enough for one request: hand back what matched and resume after the scan.
        page = page_of(docs, ["_id"], size, _customer)
        return Page(items=page.items, cursors=page.cursors, next_cursor=encode_cursor([scanned]))

    async def count(self, tenant_id: str, search: CustomerSearch) -> int | None:
        """How many customers match `search`; None when that would mean joining collections
        (journey membership combined with profile criteria)."""
        query = _search_query(tenant_id, search)
        if search.journey_id is None:
            return await self._customers.count_documents(query)
        if not search.journey_only:
            return None
        rows = await (
            await self._enrollments.aggregate(
                [
                    {"$match": _journey_query(tenant_id, search)},
                    {"$group": {"_id": "$customer_id"}},
                    # Only members the search would list (merged-away ones are not, by default).
                    {
                        "$lookup": {
                            "from": self._customers.name,
                            "localField": "_id",
                            "foreignField": "_id",
                            "as": "customer",
                        }
                    },
                    {"$match": {"customer": {"$elemMatch": query}}},
                    {"$count": "customers"},
                ]
            )
        ).to_list(None)
        return int(rows[0]["customers"]) if rows else 0

    # --- profile writes -----------------------------------------------------------------------

    async def update_profile(
        self,
        tenant_id: str,
        customer_id: str,
        now: datetime,
        *,
        add_tags: builtins.list[str] | None = None,
        remove_tags: builtins.list[str] | None = None,
        set_attributes: dict[str, Any] | None = None,
        unset_attributes: builtins.list[str] | None = None,
    ) -> Customer:
        """Apply tag and attribute changes in one atomic update (removals before additions).

        A merged customer's changes go to the customer it was merged into.
        """
        add: builtins.list[str] = sorted(set(add_tags or []))
        remove: builtins.list[str] = sorted(set(remove_tags or []))
        to_set = dict(set_attributes or {})
        to_unset: builtins.list[str] = sorted(set(unset_attributes or []))
        _check_attribute_names(list(to_set), "set_attributes")
        _check_attribute_names(to_unset, "unset_attributes")
        stage: Document = {
            "updated_at": now,
            "tags": {"$setUnion": [{"$setDifference": [{"$ifNull": ["$tags", []]}, remove]}, add]},
            # $literal: attribute values are data, never expressions.
            "attributes": {
                "$mergeObjects": [{"$ifNull": ["$attributes", {}]}, {"$literal": to_set}]
            },
        }
        pipeline: builtins.list[Document] = [{"$set": stage}]
        if to_unset:
            pipeline.append({"$unset": [f"attributes.{name}" for name in to_unset]})
        target = (await self.get(tenant_id, customer_id)).id
        doc = await self._customers.find_one_and_update(
            {"_id": target, "tenant_id": tenant_id, "merged_into": None},
            pipeline,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # merged between the read and the write
            return await self.update_profile(
                tenant_id,
                target,
                now,
                add_tags=add,
                remove_tags=remove,
                set_attributes=to_set,
                unset_attributes=to_unset,
            )
        return _customer(doc)

    async def set_first_touch_hook(
        self, tenant_id: str, customer_id: str, hook: str, now: datetime
    ) -> bool:
        """Record the hook that first brought the customer in, unless one is recorded already."""
        result = await self._customers.update_one(
            {"_id": customer_id, "tenant_id": tenant_id, "first_touch_hook": None},
            {"$set": {"first_touch_hook": hook, "updated_at": now}},
        )
        return result.modified_count == 1

    async def set_consent(
        self, tenant_id: str, customer_id: str, channel: str, granted: bool, now: datetime
    ) -> Customer:
        """Record whether the customer agreed to be reached on `channel`."""
        _check_attribute_names([channel], "channel")
        doc = await self._customers.find_one_and_update(
            {"_id": customer_id, "tenant_id": tenant_id},
            {"$set": {f"consent.{channel}": granted, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFoundError("customer", customer_id)
        return _customer(doc)
