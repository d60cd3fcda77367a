"""Shared MongoDB plumbing for the repositories: collection handles and document helpers."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bson.codec_options import CodecOptions
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

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


def collection(db: AsyncDatabase[Any], name: str) -> AsyncCollection[Document]:
    """The named collection, decoding datetimes as aware UTC."""
    return db.get_collection(name, codec_options=CODEC_OPTIONS)


def without_object_id(doc: Document) -> Document:
    """`doc` without its `_id` (for collections whose `_id` is MongoDB's own)."""
    return {key: value for key, value in doc.items() if key != "_id"}


def id_to_field(doc: Document) -> Document:
    """`doc` with `_id` renamed `id` (for collections whose `_id` is the record id)."""
    out = {key: value for key, value in doc.items() if key != "_id"}
    out["id"] = doc["_id"]
    return out
