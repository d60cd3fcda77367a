"""Every index the repositories rely on, by collection (`Store.ensure_indexes` creates them),
and the indexes an earlier release made that this one replaced (dropped once the new exist)."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from store.callbacks import RETENTION as CALLBACK_RETENTION
from store.mongo import (
    API_KEYS,
    CHANNEL_CREDENTIALS,
    CHANNEL_SETTINGS,
    CUSTOMERS,
    DELIVERIES,
    ENROLLMENT_RUNS,
    ENROLLMENTS,
    ENTRY_SCHEDULES,
    EVENTS,
    HOOKS,
    JOURNEY_VERSIONS,
    JOURNEYS,
    MINIPROGRAM_AUTHORIZATIONS,
    OPERATIONS,
    SIMULATIONS,
    SMS_MESSAGES,
    TOUCH_COUNTERS,
    TRANSITIONS,
    WEBHOOK_SECRETS,
    WECOM_ALLOWANCES,
    WECOM_CALLBACKS,
    WECOM_TRANSFERS,
)
from store.simulations import RETENTION as SIMULATION_RETENTION

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
    # results expire: a forecast is cheap to run again
    SIMULATIONS: [
        IndexModel(
            [("created_at", ASCENDING)],
            expireAfterSeconds=int(SIMULATION_RETENTION.total_seconds()),
            name="expire",
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
    ENTRY_SCHEDULES: [
        IndexModel(
            [("tenant_id", ASCENDING), ("journey_id", ASCENDING), ("created_at", ASCENDING)],
            name="by_journey",
        ),
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
