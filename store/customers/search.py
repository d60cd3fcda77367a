"""Customer search: identity, tags, attribute equality, first-touch hook, consent per channel and
journey membership.

Indexes serve each criterion: `identity_unique` and `by_identity_value` (identities), `by_tag`,
`by_hook`, `by_attribute` (a wildcard index on `attributes`), `by_consent` (one on `consent`) and, for journey membership,
`by_journey_node_customer` on enrollments. Journey membership is read from the enrollment
projections in customer-id order, a batch at a time, then the customers of each batch are read
with the other filters; both orders are the customer id, so one keyset cursor serves.
Enrollments keep the customer id they started with, so a customer merged away is found under its
own (merged) record, which search leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection

from domain.customers import (
    CONSENT_SOURCE_PATTERN,
    WELL_KNOWN_IDENTITY_KINDS,
    ConsentStatus,
    Customer,
    Identity,
    normalize_identity,
)
from domain.errors import InvalidInputError
from store.customers.documents import check_attribute_names, customer_from_doc, identity_filter
from store.mongo import Document, bounded_aggregate, bounded_count
from store.pagination import Page, collect, decode_cursor, encode_cursor, page_of, page_size

CONSENT_NAME = re.compile(CONSENT_SOURCE_PATTERN)
JOURNEY_SCAN_BATCH = 500
MAX_JOURNEY_SCAN_BATCHES = 20


@dataclass(frozen=True)
class CustomerSearch:
    """What `CustomerRepository.search` filters on; every given criterion must hold.

    `identity_kind` narrows `identity_value` to one kind; without it the value matches an
    identity of any kind (as typed, or normalized as a phone or an e-mail).
    `journey_id` selects customers with an enrollment in that journey, narrowed by the
    enrollment's current node and status. `consent` maps channels to the status the
    customer's consent there must have (a channel never asked has neither).
    """

    identity_kind: str | None = None
    identity_value: str | None = None
    tags_all: Sequence[str] = ()
    tags_any: Sequence[str] = ()
    attributes: Mapping[str, Any] = dataclass_field(default_factory=dict)
    hook: str | None = None
    consent: Mapping[str, ConsentStatus] = dataclass_field(default_factory=dict)
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
            or bool(self.consent)
        )


def _identity_values(value: str) -> list[str]:
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
    if isinstance(value, list):
        return any(_has_operator_key(item) for item in value)
    return False


def _search_query(tenant_id: str, search: CustomerSearch) -> Document:
    """The customers filter of `search` (journey membership aside); `InvalidInputError` when bad."""
    query: Document = {"tenant_id": tenant_id}
    terms: list[Document] = []
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
            query.update(identity_filter(identity))
        else:
            values = _identity_values(search.identity_value)
            if not values[0]:
                raise InvalidInputError.single("filter.identity.value", "cannot be empty")
            query["identities.value"] = {"$in": values}
    if search.tags_all:
        terms.append({"tags": {"$all": list(search.tags_all)}})
    if search.tags_any:
        terms.append({"tags": {"$in": list(search.tags_any)}})
    if search.attributes:
        check_attribute_names(list(search.attributes), "filter.attributes")
        for key, value in search.attributes.items():
            if _has_operator_key(value):
                raise InvalidInputError.single(
                    f"filter.attributes.{key}", "values cannot hold keys starting with '$'"
                )
            # $eq: the value is compared as data, never read as an operator document.
            query[f"attributes.{key}"] = {"$eq": value}
    if search.hook is not None:
        query["first_touch_hook"] = search.hook
    for channel, status in search.consent.items():
        terms.append(_consent_term(channel, status))
    if terms:
        query["$and"] = terms
    return query


def _consent_term(channel: str, status: ConsentStatus) -> Document:
    if not CONSENT_NAME.match(channel):
        raise InvalidInputError.single(
            "filter.consent.channel", f"must match {CONSENT_SOURCE_PATTERN}"
        )
    # Documents written before consent records hold a bare boolean for the channel.
    return {
        "$or": [
            {f"consent.{channel}.status": status},
            {f"consent.{channel}": status == "opted_in"},
        ]
    }


def _journey_query(tenant_id: str, search: CustomerSearch) -> Document:
    query: Document = {"tenant_id": tenant_id, "journey_id": search.journey_id}
    if search.journey_node is not None:
        query["current_node"] = search.journey_node
    if search.journey_statuses:
        query["status"] = {"$in": list(search.journey_statuses)}
    return query


class CustomerSearches:
    """Search of `CustomerRepository`, over its `customers` and `enrollments` collections."""

    _customers: AsyncCollection[Document]
    _enrollments: AsyncCollection[Document]
    _max_time_ms: int

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
            return await collect(found, ["_id"], size, customer_from_doc)
        return await self._search_in_journey(tenant_id, search, query, last, size)

    async def _search_in_journey(
        self, tenant_id: str, search: CustomerSearch, query: Document, last: Any, size: int
    ) -> Page[Customer]:
        members = _journey_query(tenant_id, search)
        docs: list[Document] = []
        scanned = last
        for _ in range(MAX_JOURNEY_SCAN_BATCHES):
            scope = members if scanned is None else {**members, "customer_id": {"$gt": scanned}}
            batch = (
                await self._enrollments.find(scope, projection={"customer_id": 1, "_id": 0})
                .sort("customer_id", 1)
                .limit(JOURNEY_SCAN_BATCH)
                .to_list(None)
            )
            ids = list(dict.fromkeys(doc["customer_id"] for doc in batch))
            if ids:
                docs += (
                    await self._customers.find({**query, "_id": {"$in": ids}})
                    .sort("_id", 1)
                    .limit(size + 1 - len(docs))
                    .to_list(None)
                )
            if len(docs) > size:
                return page_of(docs, ["_id"], size, customer_from_doc)
            if len(batch) < JOURNEY_SCAN_BATCH:
                return page_of(docs, ["_id"], size, customer_from_doc)
            scanned = batch[-1]["customer_id"]
        # Scanned enough for one request: hand back what matched and resume after the scan.
        page = page_of(docs, ["_id"], size, customer_from_doc)
        return Page(items=page.items, keys=page.keys, next_cursor=encode_cursor([scanned]))

    async def count(self, tenant_id: str, search: CustomerSearch) -> int | None:
        """How many customers match `search`; None when that would mean joining collections
        (journey membership combined with profile criteria)."""
        query = _search_query(tenant_id, search)
        if search.journey_id is None:
            return await bounded_count(self._customers, query, self._max_time_ms, "customers")
        if not search.journey_only:
            return None
        rows = await bounded_aggregate(
            self._enrollments,
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
            ],
            self._max_time_ms,
            "customers in a journey",
        )
        return int(rows[0]["customers"]) if rows else 0
