"""Keyset pagination: opaque cursors over a fixed, unique sort order.

A page's `next_cursor` encodes the sort key of its last item; `cursors` holds each item's own
(Relay edges carry one per item), encoded from the kept sort keys only when first asked for: a
page read for its items alone (a GraphQL `nodes` list) encodes none. The next query asks for items after that key, so pages stay
stable while documents are inserted elsewhere in the order. Cursors are base64url of MongoDB
extended JSON; a cursor that does not decode is `InvalidInputError` on `cursor`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

from bson import ObjectId, json_util
from bson.errors import BSONError
from bson.json_util import CANONICAL_JSON_OPTIONS
from pymongo.asynchronous.collection import AsyncCollection

from domain.errors import InvalidInputError
from store.mongo import Document, bounded_aggregate

T = TypeVar("T")

# What a sort key holds; anything else in a cursor (`{"$regex": …}`, a list) is not ours, and would
# otherwise be spliced into a query as an operator.
_CURSOR_VALUE_TYPES = (str, int, float, bool, datetime, ObjectId, type(None))

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """Some items and, when more may follow, the cursor that fetches them.

    `keys[i]` (when filled) is the sort key of `items[i]`; `cursors[i]` is the cursor just after
    `items[i]` (pass it to resume there), encoded from `keys` the first time `cursors` is read.
    """

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None
    keys: Sequence[Sequence[Any]] = ()

    @cached_property
    def cursors(self) -> list[str]:
        """Each item's cursor (empty when the page was built without sort keys)."""
        return [encode_cursor(key) for key in self.keys]


def page_size(limit: int | None) -> int:
    """`limit` clamped to 1..MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE)."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the sort-key `values` of the last item of a page."""
    text = json_util.dumps(list(values), json_options=CANONICAL_JSON_OPTIONS)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort-key values in `cursor`; `InvalidInputError` when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        values = json_util.loads(raw.decode("utf-8"), json_options=CANONICAL_JSON_OPTIONS)
    except (ValueError, UnicodeError, binascii.Error, BSONError) as exc:
        raise InvalidInputError.single("cursor", "not a valid cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidInputError.single("cursor", "not a valid cursor")
    if not all(isinstance(value, _CURSOR_VALUE_TYPES) for value in values):
        raise InvalidInputError.single("cursor", "not a valid cursor")
    return values


def after(fields: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A filter for documents strictly after `values` in ascending order of `fields`."""
    clauses: list[dict[str, Any]] = []
    for index, name in enumerate(fields):
        clause: dict[str, Any] = {fields[i]: values[i] for i in range(index)}
        clause[name] = {"$gt": values[index]}
        clauses.append(clause)
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


class _ListableCursor(Protocol):
    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]: ...


async def collect(
    cursor: _ListableCursor,
    fields: Sequence[str],
    limit: int,
    convert: Callable[[dict[str, Any]], T],
) -> Page[T]:
    """Read up to `limit + 1` documents (sorted on `fields`) from `cursor` into a page."""
    return page_of(await cursor.to_list(limit + 1), fields, limit, convert)


def page_of(
    docs: Sequence[dict[str, Any]],
    fields: Sequence[str],
    limit: int,
    convert: Callable[[dict[str, Any]], T],
) -> Page[T]:
    """A page of the first `limit` of `docs` (sorted on `fields`; one more means more follow)."""
    more = len(docs) > limit
    kept = docs[:limit]
    keys = [[_get(doc, name) for name in fields] for doc in kept]
    next_cursor = encode_cursor(keys[-1]) if more and keys else None
    return Page(items=[convert(doc) for doc in kept], next_cursor=next_cursor, keys=keys)


def _get(doc: dict[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def first_pages(
    collection: AsyncCollection[Document],
    match: dict[str, Any],
    group_field: str,
    keys: Sequence[Any],
    fields: Sequence[str],
    limit: int,
    convert: Callable[[dict[str, Any]], T],
    *,
    max_time_ms: int,
) -> dict[Any, Page[T]]:
    """The first page (sorted on `fields`) of each group of `keys`, in one aggregation.

    What a dataloader needs: many lists' first pages (enrollments per customer, deliveries per
    enrollment) for the cost of one query, however many keys. `$topN` keeps at most `limit + 1`
    documents per group while grouping, so a long list costs no more memory than a short one.
    Keys without documents get an empty page.
    """
    unique = list(dict.fromkeys(keys))
    pipeline: list[dict[str, Any]] = [
        {"$match": {**match, group_field: {"$in": unique}}},
        {
            "$group": {
                "_id": f"${group_field}",
                "docs": {
                    "$topN": {
                        "n": limit + 1,
                        "sortBy": {name: 1 for name in fields},
                        "output": "$$ROOT",
                    }
                },
            }
        },
    ]
    # one row per key at most
    rows = await bounded_aggregate(
        collection, pipeline, max_time_ms, "first pages", rows=len(unique)
    )
    pages: dict[Any, Page[T]] = {key: Page() for key in unique}
    for row in rows:
        pages[row["_id"]] = page_of(row["docs"], fields, limit, convert)
    return pages
