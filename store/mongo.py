"""Shared MongoDB plumbing for the repositories: collection handles and document helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson.codec_options import CodecOptions
from pymongo import WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from domain.errors import QueryTimeoutError

Document = dict[str, Any]

# Whatever the client was configured with, the store reads aware UTC datetimes: models reject
# naive ones.
CODEC_OPTIONS: CodecOptions[Document] = CodecOptions(tz_aware=True, tzinfo=UTC)

TENANTS = "tenants"
API_KEYS = "api_keys"
JOURNEYS = "journeys"
JOURNEY_VERSIONS = "journey_versions"
CUSTOMERS = "customers"
EVENTS = "events"
ENROLLMENTS = "enrollments"
ENROLLMENT_RUNS = "enrollment_runs"
TRANSITIONS = "transitions"
DELIVERIES = "deliveries"
OPERATIONS = "operations"
SIMULATIONS = "simulations"
CHANNEL_CREDENTIALS = "channel_credentials"
CHANNEL_SETTINGS = "channel_settings"
TOUCH_COUNTERS = "touch_counters"
ENTRY_SCHEDULES = "entry_schedules"
WECOM_ALLOWANCES = "wecom_allowances"
WECOM_TRANSFERS = "wecom_transfers"
HOOKS = "hooks"
WECOM_CALLBACKS = "wecom_callbacks"
WEBHOOK_SECRETS = "webhook_secrets"
SMS_MESSAGES = "sms_messages"
MINIPROGRAM_AUTHORIZATIONS = "miniprogram_authorizations"

DUPLICATE_KEY = 11000
DEFAULT_MAX_TIME_MS = 15_000
"""How long (ms) MongoDB may run one metrics or timeline aggregation unless told otherwise."""

StoreUnavailable = ConnectionFailure
"""Raised by a repository when the MongoDB server could not be reached (no server within the
client's selection timeout, a dropped connection): the same call may succeed later."""


def journaled(configured: WriteConcern) -> WriteConcern:
    """`configured` (the client's write concern, e.g. from the URI) asking for the journal too.

    An acknowledged write must survive the server crashing right after: with `w: 1` and no
    journal, a killed server (mongod, or SecantusDB) comes back without its last few
    milliseconds of acknowledged writes, and an event answered `accepted` would be gone. `j`
    makes the server answer once the write is in its on-disk journal. A `j` or `fsync` set in
    the URI, and unacknowledged `w: 0`, are left as they are.
    """
    document = configured.document
    if "j" in document or "fsync" in document or document.get("w") == 0:
        return configured
    return WriteConcern(w=document.get("w"), wtimeout=document.get("wtimeout"), j=True)


def collection(db: AsyncDatabase[Any], name: str) -> AsyncCollection[Document]:
    """The named collection, decoding datetimes as aware UTC, its writes journaled."""
    return db.get_collection(
        name, codec_options=CODEC_OPTIONS, write_concern=journaled(db.write_concern)
    )


async def bounded_aggregate(
    coll: AsyncCollection[Document],
    pipeline: list[Document],
    max_time_ms: int,
    what: str,
    *,
    rows: int | None = None,
) -> list[Document]:
    """Every row of `pipeline`, run with `maxTimeMS`; `QueryTimeoutError` (naming `what`) when the
    server stops it, so a costly read fails clearly instead of holding the request.

    `rows`, when the caller knows how many rows there can be at most, sizes the first batch to
    hold them all, so no `getMore` round trip follows (the server's default first batch is 101).
    """
    options: dict[str, Any] = {"maxTimeMS": max_time_ms}
    if rows is not None:
        # one more than the rows: a batch filled exactly leaves the server's cursor open
        options["batchSize"] = rows + 1
    try:
        cursor = await coll.aggregate(pipeline, **options)
        return await cursor.to_list(None)
    except ExecutionTimeout as exc:
        raise QueryTimeoutError(what, max_time_ms) from exc


async def bounded_count(
    coll: AsyncCollection[Document], query: Document, max_time_ms: int, what: str
) -> int:
    """`count_documents(query)` run with `maxTimeMS`; `QueryTimeoutError` (naming `what`) when the
    server stops it (a connection's `totalCount` over a filter no index serves)."""
    try:
        return await coll.count_documents(query, maxTimeMS=max_time_ms)
    except ExecutionTimeout as exc:
        raise QueryTimeoutError(what, max_time_ms) from exc


def stored_time(at: datetime) -> datetime:
    """`at` as MongoDB stores it (milliseconds), so a stored time compares equal to its source."""
    return at.replace(microsecond=at.microsecond - at.microsecond % 1000)


def without_object_id(doc: Document) -> Document:
    """`doc` without its `_id` (for collections whose `_id` is MongoDB's own)."""
    return {key: value for key, value in doc.items() if key != "_id"}


def id_to_field(doc: Document) -> Document:
    """`doc` with `_id` renamed `id` (for collections whose `_id` is the record id)."""
    out = {key: value for key, value in doc.items() if key != "_id"}
    out["id"] = doc["_id"]
    return out
