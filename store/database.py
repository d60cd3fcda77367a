"""The store: every repository over one database, and the indexes they rely on.

`Store(db)` is cheap (no I/O); call `await store.ensure_indexes()` once at start-up. Creating an
index that already exists with the same options is a no-op, so it is safe on every start.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from store.customers import CustomerRepository
from store.deliveries import DeliveryRepository
from store.enrollments import EnrollmentRepository
from store.events import EventRepository
from store.journeys import JourneyRepository
from store.mongo import (
    API_KEYS,
    CUSTOMERS,
    DELIVERIES,
    ENROLLMENTS,
    EVENTS,
    JOURNEY_VERSIONS,
    JOURNEYS,
    TRANSITIONS,
    collection,
)
from store.tenants import TenantRepository
from store.timeline import TimelineRepository

INDEXES: dict[str, list[IndexModel]] = {
    API_KEYS: [
        IndexModel([("key_hash", ASCENDING)], unique=True, name="key_hash_unique"),
        IndexModel([("tenant_id", ASCENDING), ("_id", ASCENDING)], name="by_tenant"),
    ],
    JOURNEYS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("entry_event_type", ASCENDING), ("status", ASCENDING)],
            name="by_entry_event_type",
        ),
        IndexModel([("tenant_id", ASCENDING), ("_id", ASCENDING)], name="by_tenant"),
    ],
    JOURNEY_VERSIONS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("journey_id", ASCENDING), ("version", ASCENDING)],
            unique=True,
            name="version_unique",
        ),
    ],
    CUSTOMERS: [
        # One live customer per identity. Partial so merged records (no identities) don't clash.
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("identities.kind", ASCENDING),
                ("identities.value", ASCENDING),
            ],
            unique=True,
            partialFilterExpression={"identities.kind": {"$exists": True}},
            name="identity_unique",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("tags", ASCENDING), ("_id", ASCENDING)], name="by_tag"
        ),
        IndexModel([("tenant_id", ASCENDING), ("_id", ASCENDING)], name="by_tenant"),
        IndexModel([("tenant_id", ASCENDING), ("merged_into", ASCENDING)], name="by_merged_into"),
    ],
    EVENTS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("event_id", ASCENDING)], unique=True, name="event_id_unique"
        ),
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("customer_id", ASCENDING),
                ("timestamp", ASCENDING),
                ("_id", ASCENDING),
            ],
            name="by_customer_time",
        ),
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("customer_id", ASCENDING),
                ("type", ASCENDING),
                ("timestamp", DESCENDING),
            ],
            name="by_customer_type_time",
        ),
    ],
    ENROLLMENTS: [
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("journey_id", ASCENDING),
                ("status", ASCENDING),
                ("current_node", ASCENDING),
            ],
            name="by_journey_status_node",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("status", ASCENDING)],
            name="by_customer_status",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("started_at", ASCENDING), ("_id", ASCENDING)],
            name="by_start",
        ),
    ],
    TRANSITIONS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("enrollment_id", ASCENDING), ("seq", ASCENDING)],
            unique=True,
            name="seq_unique",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("at", ASCENDING)],
            name="by_customer_time",
        ),
    ],
    DELIVERIES: [
        IndexModel(
            [("tenant_id", ASCENDING), ("idempotency_key", ASCENDING)],
            unique=True,
            name="idempotency_key_unique",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("enrollment_id", ASCENDING), ("created_at", ASCENDING)],
            name="by_enrollment",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("created_at", ASCENDING)],
            name="by_customer_time",
        ),
    ],
}


class Store:
    """All repositories over one `AsyncDatabase`."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self.db = db
        self.tenants = TenantRepository(db)
        self.journeys = JourneyRepository(db)
        self.customers = CustomerRepository(db)
        self.events = EventRepository(db)
        self.enrollments = EnrollmentRepository(db)
        self.deliveries = DeliveryRepository(db)
        self.timeline = TimelineRepository(db)

    async def ensure_indexes(self) -> None:
        """Create every index the repositories rely on (idempotent)."""
        for name, indexes in INDEXES.items():
            await collection(self.db, name).create_indexes(indexes)
