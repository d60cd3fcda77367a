"""The store: every repository over one database, and the indexes they rely on.

`Store(db)` is cheap (no I/O); call `await store.ensure_indexes()` once at start-up. Creating an
index that already exists with the same options is a no-op, so it is safe on every start.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from store.callbacks import RETENTION as CALLBACK_RETENTION
from store.callbacks import CallbackRepository
from store.channel_credentials import WeComCredentialsRepository
from store.channel_settings import ChannelSettingsRepository
from store.customers import CustomerRepository
from store.dead_letters import DeadLetterRepository
from store.deliveries import DeliveryRepository
from store.email import EmailRecords
from store.enrollments import EnrollmentRepository
from store.events import EventRepository
from store.experiments import ExperimentRepository
from store.hooks import HookRepository
from store.journeys import JourneyRepository
from store.live import LiveFeedRepository
from store.metrics import MetricsRepository
from store.miniprogram_authorizations import AuthorizationLedger
from store.mongo import (
    API_KEYS,
    CHANNEL_CREDENTIALS,
    CHANNEL_SETTINGS,
    CUSTOMERS,
    DEFAULT_MAX_TIME_MS,
    DELIVERIES,
    ENROLLMENT_RUNS,
    ENROLLMENTS,
    EVENTS,
    HOOKS,
    JOURNEY_VERSIONS,
    JOURNEYS,
    MINIPROGRAM_AUTHORIZATIONS,
    OPERATIONS,
    SMS_MESSAGES,
    TOUCH_COUNTERS,
    TRANSITIONS,
    WEBHOOK_SECRETS,
    WECOM_ALLOWANCES,
    WECOM_CALLBACKS,
    WECOM_TRANSFERS,
    collection,
)
from store.operations import OperationRepository
from store.secretbox import SecretBox, SecretError
from store.sms_messages import SmsMessageRepository
from store.tenants import TenantRepository
from store.timeline import TimelineRepository
from store.touch_counters import TouchCounters
from store.webhook_secrets import WebhookSecretRepository
from store.wechat_apps import WeChatApps
from store.wecom_ledgers import AllowanceLedger, TransferLedger

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
        # The experiment sweep's read: versions with an undecided winner rule.
        IndexModel([("open_experiments", ASCENDING)], name="open_experiments", sparse=True),
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
        # merges under way (store.customers.merges): identities being moved, and the sweeps
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("merge_moving.kind", ASCENDING),
                ("merge_moving.value", ASCENDING),
            ],
            partialFilterExpression={"merge_moving.kind": {"$exists": True}},
            name="by_identity_moving",
        ),
        IndexModel(
            [("merging_into", ASCENDING)],
            partialFilterExpression={"merging_into": {"$exists": True}},
            name="merges_unfinished",
        ),
        IndexModel(
            [("enrollments_settled", ASCENDING), ("tenant_id", ASCENDING)],
            partialFilterExpression={"enrollments_settled": False},
            name="merges_unsettled",
        ),
        # metrics: customers by first touch
        IndexModel([("tenant_id", ASCENDING), ("created_at", ASCENDING)], name="by_created"),
        # customer search: an identity value of any kind, the first-touch hook, any attribute
        IndexModel(
            [("tenant_id", ASCENDING), ("identities.value", ASCENDING)], name="by_identity_value"
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("first_touch_hook", ASCENDING), ("_id", ASCENDING)],
            name="by_hook",
        ),
        # a compound wildcard index (MongoDB 7.0+): equality on any one attribute
        IndexModel([("tenant_id", ASCENDING), ("attributes.$**", ASCENDING)], name="by_attribute"),
        # the same for consent: a channel's status (and the bare booleans stored before records)
        IndexModel([("tenant_id", ASCENDING), ("consent.$**", ASCENDING)], name="by_consent"),
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
        # the recovery sweep, across tenants: only events still to be routed are in it
        IndexModel(
            [("received_at", ASCENDING), ("_id", ASCENDING)],
            partialFilterExpression={"route_pending": True},
            name="unrouted_by_received",
        ),
        # the sweep's share of one tenant: its events still to be routed, oldest first
        IndexModel(
            [("tenant_id", ASCENDING), ("received_at", ASCENDING), ("_id", ASCENDING)],
            partialFilterExpression={"route_pending": True},
            name="unrouted_by_tenant",
        ),
        # dead letters (parked after too many failed routing attempts), oldest parked first
        IndexModel(
            [("tenant_id", ASCENDING), ("route_dead_at", ASCENDING), ("_id", ASCENDING)],
            partialFilterExpression={"route_dead": True},
            name="dead_letters",
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
        # metrics: a journey's enrollments started in a range
        IndexModel(
            [("tenant_id", ASCENDING), ("journey_id", ASCENDING), ("started_at", ASCENDING)],
            name="by_journey_start",
        ),
        # customer search by journey membership scans customer ids in order (optionally at a node)
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("journey_id", ASCENDING),
                ("current_node", ASCENDING),
                ("customer_id", ASCENDING),
            ],
            name="by_journey_node_customer",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("journey_id", ASCENDING), ("customer_id", ASCENDING)],
            name="by_journey_customer",
        ),
    ],
    # earlier runs of re-entered enrollments: an enrollment's runs, and metrics by start
    ENROLLMENT_RUNS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("enrollment_id", ASCENDING), ("started_at", ASCENDING)],
            name="by_enrollment_start",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("journey_id", ASCENDING), ("started_at", ASCENDING)],
            name="by_journey_start",
        ),
    ],
    TRANSITIONS: [
        # a step is numbered within its run: a re-entered enrollment's new run starts at 0 again
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("enrollment_id", ASCENDING),
                ("run_started_at", ASCENDING),
                ("seq", ASCENDING),
            ],
            unique=True,
            name="run_seq_unique",
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("at", ASCENDING)],
            name="by_customer_time",
        ),
        # the live feed of a journey's transitions tails this one
        IndexModel(
            [("tenant_id", ASCENDING), ("journey_id", ASCENDING), ("at", ASCENDING)],
            name="by_journey_time",
        ),
    ],
    OPERATIONS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
            name="by_created",
        ),
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("journey_id", ASCENDING),
                ("created_at", ASCENDING),
                ("_id", ASCENDING),
            ],
            name="by_journey_created",
        ),
        # the start-up and periodic resumption of operations a dead process left
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)], name="by_status_lease"),
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
        # metrics: deliveries per channel over a range
        IndexModel([("tenant_id", ASCENDING), ("created_at", ASCENDING)], name="by_created"),
        # runtime.wecom_results: tasks awaiting their per-customer results, across tenants
        IndexModel(
            [
                ("channel", ASCENDING),
                ("action", ASCENDING),
                ("status", ASCENDING),
                ("updated_at", ASCENDING),
            ],
            name="by_channel_action_status_time",
        ),
    ],
    CHANNEL_CREDENTIALS: [
        IndexModel([("tenant_id", ASCENDING)], unique=True, name="tenant_unique"),
        IndexModel([("callback_id", ASCENDING)], unique=True, name="callback_id_unique"),
    ],
    TOUCH_COUNTERS: [
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("customer_id", ASCENDING),
                ("cap", ASCENDING),
                ("period", ASCENDING),
            ],
            unique=True,
            name="counter_unique",
        ),
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires"),
    ],
    CHANNEL_SETTINGS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("kind", ASCENDING)], unique=True, name="tenant_kind"
        ),
        IndexModel(
            [("kind", ASCENDING), ("lookup", ASCENDING)],
            unique=True,
            partialFilterExpression={"lookup": {"$type": "string"}},
            name="kind_lookup_unique",
        ),
    ],
    WEBHOOK_SECRETS: [
        IndexModel([("tenant_id", ASCENDING)], unique=True, name="tenant_unique"),
    ],
    SMS_MESSAGES: [
        IndexModel([("tenant_id", ASCENDING), ("phone", ASCENDING)], name="tenant_phone"),
    ],
    WECOM_ALLOWANCES: [
        IndexModel(
            [
                ("tenant_id", ASCENDING),
                ("external_userid", ASCENDING),
                ("period_key", ASCENDING),
            ],
            unique=True,
            name="period_unique",
        ),
        # Multikey: an idempotency key is counted in one period document only.
        IndexModel([("tenant_id", ASCENDING), ("keys", ASCENDING)], unique=True, name="key_unique"),
    ],
    WECOM_TRANSFERS: [
        IndexModel([("tenant_id", ASCENDING), ("key", ASCENDING)], unique=True, name="key_unique"),
        IndexModel(
            [("tenant_id", ASCENDING), ("external_userid", ASCENDING), ("at", ASCENDING)],
            name="by_customer_time",
        ),
    ],
    HOOKS: [
        IndexModel(
            [("tenant_id", ASCENDING), ("state", ASCENDING)], unique=True, name="state_unique"
        ),
        IndexModel(
            [("tenant_id", ASCENDING), ("archived", ASCENDING), ("_id", ASCENDING)],
            name="by_tenant",
        ),
    ],
    MINIPROGRAM_AUTHORIZATIONS: [
        IndexModel([("tenant_id", ASCENDING), ("openid", ASCENDING)], name="by_tenant_openid"),
    ],
    WECOM_CALLBACKS: [
        IndexModel([("tenant_id", ASCENDING), ("key", ASCENDING)], unique=True, name="key_unique"),
        IndexModel(
            [("received_at", ASCENDING)],
            expireAfterSeconds=int(CALLBACK_RETENTION.total_seconds()),
            name="expire_after_retention",
        ),
    ],
}

# Indexes an earlier release created and this one replaced: `ensure_indexes` drops them.
OBSOLETE_INDEXES: dict[str, list[str]] = {
    # unique per enrollment, it dropped a re-entered enrollment's steps (replaced: run_seq_unique)
    TRANSITIONS: ["seq_unique"],
}


class Store:
    """All repositories over one `AsyncDatabase`.

    `secrets` seals the secrets some repositories hold (WeCom credentials, webhook signing
    secrets); a store built without one refuses to read or write them. `max_time_ms` bounds
    each metrics and timeline aggregation (MongoDB's `maxTimeMS`; over it they raise
    `QueryTimeoutError`).
    """

    def __init__(
        self,
        db: AsyncDatabase[Any],
        secrets: SecretBox | None = None,
        *,
        max_time_ms: int = DEFAULT_MAX_TIME_MS,
    ) -> None:
        self.db = db
        self.tenants = TenantRepository(db)
        self.journeys = JourneyRepository(db, max_time_ms)
        self.experiments = ExperimentRepository(db)
        self.touch_counters = TouchCounters(db)
        self.customers = CustomerRepository(db, max_time_ms)
        self.events = EventRepository(db)
        self.dead_letters = DeadLetterRepository(db, max_time_ms)
        self.enrollments = EnrollmentRepository(db, max_time_ms)
        self.deliveries = DeliveryRepository(db, max_time_ms)
        self.timeline = TimelineRepository(db, max_time_ms)
        self.operations = OperationRepository(db, max_time_ms)
        self.live = LiveFeedRepository(db)
        self.wecom_credentials = WeComCredentialsRepository(db, secrets)
        self.channel_settings = ChannelSettingsRepository(db, secrets)
        self.email = EmailRecords(self.channel_settings)
        self.wecom_allowances = AllowanceLedger(db)
        self.wecom_transfers = TransferLedger(db)
        self.hooks = HookRepository(db)
        self.metrics = MetricsRepository(db, max_time_ms)
        self.wecom_callbacks = CallbackRepository(db)
        self.webhook_secrets = WebhookSecretRepository(db, secrets)
        self.sms_messages = SmsMessageRepository(db)
        self.miniprogram_authorizations = AuthorizationLedger(db)
        self.wechat_apps = WeChatApps(self.channel_settings)

    async def ping(self) -> bool:
        """Whether the server answers a `ping` (raises on connection errors)."""
        answer = await self.db.command("ping")
        return bool(answer.get("ok"))

    async def ensure_indexes(self) -> None:
        """Create every index the repositories rely on, then drop replaced ones (idempotent)."""
        for name, indexes in INDEXES.items():
            await collection(self.db, name).create_indexes(indexes)
        # after their replacements exist, so a unique constraint never lapses
        for name, obsolete in OBSOLETE_INDEXES.items():
            handle = collection(self.db, name)
            present = await handle.index_information()
            for index in obsolete:
                if index in present:
                    await handle.drop_index(index)

    async def reseal_secrets(self) -> int:
        """At start-up, after `ensure_indexes`: seal secrets stored in plain text and re-seal those
        under an older key with the primary one; how many changed (idempotent)."""
        changed, failed = 0, []
        # Each collection is re-sealed even when another holds values under a missing key.
        for repository in (self.wecom_credentials, self.channel_settings, self.webhook_secrets):
            try:
                changed += await repository.reseal()
            except SecretError as exc:
                failed.append(exc)
        if failed:
            raise SecretError("; ".join(str(exc) for exc in failed))
        return changed
