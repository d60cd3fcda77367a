"""Shared MongoDB plumbing for the repositories: collection handles and document helpers."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bson.codec_options import CodecOptions
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ExecutionTimeout

from domain.errors import QueryTimeout

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
CHANNEL_CREDENTIALS = "channel_credentials"
WECOM_ALLOWANCES = "wecom_allowances"
WECOM_TRANSFERS = "wecom_transfers"
HOOKS = "hooks"
WECOM_CALLBACKS = "wecom_callbacks"
WEBHOOK_SECRETS = "webhook_secrets"

DUPLICATE_KEY = 11000
DEFAULT_MAX_TIME_MS = 15_000
"""How long (ms) MongoDB may run one metrics or timeline aggregation unless told otherwise."""


def collection(db: AsyncDatabase[Any], name: str) -> AsyncCollection[Document]:
    """The named collection, decoding datetimes as aware UTC."""
    return db.get_collection(name, codec_options=CODEC_OPTIONS)


async def bounded_aggregate(
    coll: AsyncCollection[Document], pipeline: list[Document], max_time_ms: int, what: str
) -> list[Document]:
    """Every row of `pipeline`, run with `maxTimeMS`; `QueryTimeout` (naming `what`) when the
    server stops it, so a costly read fails clearly instead of holding the request."""
    try:
        cursor = await coll.aggregate(pipeline, maxTimeMS=max_time_ms)
        return await cursor.to_list(None)
    except ExecutionTimeout as exc:
        raise QueryTimeout(what, max_time_ms) from exc


def without_object_id(doc: Document) -> Document:
    """`doc` without its `_id` (for collections whose `_id` is MongoDB's own)."""
    return {key: value for key, value in doc.items() if key != "_id"}


def id_to_field(doc: Document) -> Document:
    """`doc` with `_id` renamed `id` (for collections whose `_id` is the record id)."""
    out = {key: value for key, value in doc.items() if key != "_id"}
    out["id"] = doc["_id"]
    return out
