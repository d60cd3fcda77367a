"""How every top-level field of the schema is proven tenant-scoped and role-checked.

`tests/api/test_tenant_isolation.py` and `tests/api/test_roles.py` read the schema by
introspection and fail on any Query, Mutation or Subscription field missing here, so a new field
forces a decision. To add one, say how to call it and what another tenant must get:

- `Read(args=..., foreign=...)` for a query. `args` gives every required argument (and any
  other worth passing); strings starting with `$` are the seeded tenant's records: `$journey`,
  `$customer`, `$enrollment`, `$hook`, `$operation`, `$apiKey` (a viewer key), `$phone` (the
  customer's phone), `$deadLetter` (the id of a parked event of the customer). Required
  arguments named `journeyId`, `customerId`, `enrollmentId`, `hookId`, `operationId` are filled in
  without being listed. `foreign` is what a key of another tenant gets when it asks about the
  seeded tenant's records: `null`, `empty` (an empty list or connection), `not_found` (a
  `NotFound` result or null), `zero` (only zero counts) or `same` (not tenant data at all: the
  same answer for everyone). `sees_seed=False` when the owner's own answer does not show the seed
  (so there is nothing to compare with). `echoes` names seeded refs the answer may repeat
  because they were passed in (a filter echoed back), which is no leak. `admin_only=True` when
  other roles get null (every other query must answer every role as it answers an admin).
- `Write(permission=..., args=..., foreign=...)` for a mutation. `permission` is what the
  caller's role must grant (`"admin"` for admin-only); every other role must get `Forbidden`.
  `foreign` is `not_found` when the mutation names another tenant's record, or `own_tenant` when
  it can only create or change the caller's own records (then the seeded tenant must be unchanged).
- `Elsewhere("where")` for a field proven by another test (say which).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from api.auth import Permission

Foreign = Literal["null", "empty", "not_found", "zero", "same"]
_NOW = datetime.now(UTC)
RANGE = {
    "from": (_NOW - timedelta(days=30)).isoformat(),
    "to": (_NOW + timedelta(days=1)).isoformat(),
}


@dataclass(frozen=True)
class Read:
    args: dict[str, Any] = field(default_factory=dict)
    foreign: Foreign = "null"
    sees_seed: bool = True
    echoes: tuple[str, ...] = ()
    admin_only: bool = False


@dataclass(frozen=True)
class Write:
    permission: Permission | Literal["admin"]
    args: dict[str, Any] = field(default_factory=dict)
    foreign: Literal["not_found", "own_tenant"] = "not_found"


@dataclass(frozen=True)
class Elsewhere:
    where: str


EDIT = Permission.EDIT_JOURNEYS
MANAGE = Permission.MANAGE_ENROLLMENTS
INGEST = Permission.INGEST_EVENTS

EVENT = {
    "id": "scope-probe-1",
    "type": "order.paid",
    "identities": [{"kind": "phone", "value": "13900000000"}],
    "timestamp": "2026-03-01T10:00:00+08:00",
}

QUERIES: dict[str, Read | Elsewhere] = {
    "journeys": Read(foreign="empty"),
    "journey": Read(args={"id": "$journey"}),
    "validateJourney": Read(
        args={"source": {"journeyId": "$journey"}}, foreign="not_found", sees_seed=False
    ),
    "journeyTemplates": Read(foreign="same", sees_seed=False),
    "channels": Read(foreign="same", sees_seed=False),
    "customer": Read(args={"id": "$customer"}),
    "customerByIdentity": Read(args={"kind": "phone", "value": "$phone"}),
    "customers": Read(foreign="empty"),
    "enrollment": Read(args={"id": "$enrollment"}),
    # a small page: every node's `history` costs 1000 in the complexity limit
    "enrollments": Read(args={"filter": {"journeyId": "$journey"}, "first": 5}, foreign="empty"),
    "hooks": Read(args={"includeArchived": True}, foreign="empty"),
    "hook": Read(args={"id": "$hook"}),
    "wecomSettings": Read(admin_only=True),
    # The seed configures no SMS account; tests/api/test_sms_settings.py shows one stays put.
    "smsSettings": Read(admin_only=True, sees_seed=False),
    "wechatApps": Read(admin_only=True, foreign="empty", sees_seed=False),
    # Metadata only (no ids, no secret); neither seeded nor probing tenant has rotated, so both
    # answer "not set". tests/api/test_webhook_secrets.py shows a rotation stays in its tenant.
    "webhookSettings": Read(admin_only=True, foreign="same", sees_seed=False),
    # The seeded tenant sets no policy: every tenant reads the empty one.
    "messagingPolicy": Read(foreign="same", sees_seed=False),
    # The seeded tenant schedules nothing; tests/api/test_scheduled_entry.py shows another
    # tenant never sees one that exists.
    "scheduledEntries": Read(foreign="empty", sees_seed=False),
    # The seeded journey has one version: the plan answers NotFound for everyone alike.
    "migrationPlan": Read(
        args={"fromVersion": 1, "toVersion": 2, "mapping": []}, foreign="not_found", sees_seed=False
    ),
    "emailSettings": Read(admin_only=True),
    # The seeded tenant connects no source; tests/api/test_source_settings.py shows another
    # tenant never sees one that is connected.
    "sources": Read(admin_only=True, foreign="empty", sees_seed=False),
    # Every answer holds the keys' last-used times, which the probe's own calls move.
    "apiKeys": Elsewhere("tests/api/test_api_keys.py"),
    "operation": Read(args={"id": "$operation"}),
    # The seeded operation is no simulation: null for everyone alike; tests/api/test_simulations.py
    # shows a tenant's simulation is not another's.
    "simulation": Read(args={"id": "$operation"}, sees_seed=False),
    "operations": Read(args={"journeyId": "$journey"}, foreign="empty"),
    "audienceMetrics": Read(args=RANGE, foreign="zero", sees_seed=False),
    "hookMetrics": Read(args=RANGE, foreign="zero", sees_seed=False),
    "channelMetrics": Read(
        args={**RANGE, "journeyId": "$journey"},
        foreign="zero",
        sees_seed=False,
        echoes=("journey",),
    ),
    "journeyMetrics": Read(args=RANGE, foreign="not_found"),
    "deadLetters": Read(foreign="empty"),
    "deadLetter": Read(args={"eventId": "$deadLetter"}),
}

MUTATIONS: dict[str, Write | Elsewhere] = {
    "createJourney": Write(EDIT, {"input": {"name": "probe"}}, "own_tenant"),
    "createJourneyFromTemplate": Write(
        EDIT, {"key": "douyin-wecom-repurchase", "name": "probe"}, "own_tenant"
    ),
    "updateJourney": Write(EDIT, {"id": "$journey", "expectedRevision": 1, "name": "taken"}),
    "publishJourney": Write(EDIT, {"id": "$journey"}),
    "archiveJourney": Write(EDIT, {"id": "$journey"}),
    "unarchiveJourney": Write(EDIT, {"id": "$journey"}),
    "duplicateJourney": Write(EDIT, {"id": "$journey", "name": "copied"}),
    "enrollCustomer": Write(MANAGE),
    "reenrollCustomer": Write(MANAGE),
    "pauseEnrollment": Write(MANAGE, {"id": "$enrollment"}),
    "resumeEnrollment": Write(MANAGE, {"id": "$enrollment"}),
    "cancelEnrollment": Write(MANAGE, {"id": "$enrollment"}),
    "pauseJourneyEnrollments": Write(MANAGE),
    "resumeJourneyEnrollments": Write(MANAGE),
    "cancelJourneyEnrollments": Write(MANAGE, {"reason": "taken over"}),
    "enrollSegment": Write(MANAGE, {"filter": {"tags": {"all": ["nobody-has-this"]}}}),
    "scheduleSegmentEntry": Write(
        MANAGE, {"input": {"journeyId": "$journey", "cron": "0 10 * * *"}}, "not_found"
    ),
    "deleteScheduledEntry": Write(MANAGE, {"id": "nothing-scheduled"}, "not_found"),
    "migrateEnrollments": Write(MANAGE, {"fromVersion": 1, "toVersion": 2, "mapping": []}),
    "simulateJourney": Write(EDIT, {"cohort": {"synthetic": {"size": 1}}, "days": 1}),
    "setCustomerConsent": Write(
        Permission.MANAGE_CUSTOMERS,
        {"input": {"customerId": "$customer", "channel": "sms", "status": "OPTED_OUT"}},
    ),
    "ingestEvents": Write(INGEST, {"events": [EVENT]}, "own_tenant"),
    "sendTestEvent": Write(INGEST, {"type": "order.paid"}),
    "retryDeadLetter": Write(INGEST, {"eventId": "$deadLetter"}),
    # names another tenant's dead letter: listed in `notFound`, the owner's left as they were
    "retryDeadLetters": Write(INGEST, {"eventIds": ["$deadLetter"]}, "own_tenant"),
    "createHook": Write(EDIT, {"input": {"name": "probe", "kind": "CONTACT_WAY"}}, "own_tenant"),
    "updateHook": Write(EDIT, {"id": "$hook", "name": "taken"}),
    "deleteHook": Write(EDIT, {"id": "$hook"}),
    "configureWeCom": Write(
        Permission.MANAGE_CHANNELS,
        {
            "input": {
                "corpId": "probe-corp",
                "secret": "probe-secret",
                "callbackToken": "probe-token",
                "encodingAesKey": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            }
        },
        "own_tenant",
    ),
    "configureSms": Write(
        Permission.MANAGE_CHANNELS,
        {
            "input": {
                "provider": "ALIYUN",
                "accessKeyId": "probe-key",
                "signName": "probe",
                "secret": "probe-secret",
            }
        },
        "own_tenant",
    ),
    "configureWeChatApp": Write(
        Permission.MANAGE_CHANNELS,
        {
            "input": {
                "kind": "OA",
                "appid": "wxprobe00000000001",
                "appsecret": "probe-secret",
                "callbackToken": "probe-token",
                "encodingAesKey": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            }
        },
        "own_tenant",
    ),
    "clearSmsSettings": Write(Permission.MANAGE_CHANNELS, {}, "own_tenant"),
    "clearWeChatApp": Write(Permission.MANAGE_CHANNELS, {"kind": "MINIPROGRAM"}, "own_tenant"),
    "rotateWebhookSecret": Write(Permission.MANAGE_CHANNELS, {"overlapHours": 1}, "own_tenant"),
    "setMessagingPolicy": Write(
        Permission.MANAGE_CHANNELS,
        {"input": {"caps": [{"id": "daily", "limit": 2, "period": "DAY"}]}},
        "own_tenant",
    ),
    "configureEmail": Write(
        Permission.MANAGE_CHANNELS,
        {"input": {"host": "smtp.probe.example", "port": 587, "fromAddress": "p@probe.example"}},
        "own_tenant",
    ),
    "clearEmailSettings": Write(Permission.MANAGE_CHANNELS, {}, "own_tenant"),
    "setDouyinLeadSource": Write(
        Permission.MANAGE_CHANNELS, {"input": {"clientSecret": "s"}}, "own_tenant"
    ),
    "setXiaohongshuLeadSource": Write(
        Permission.MANAGE_CHANNELS, {"input": {"token": "t"}}, "own_tenant"
    ),
    "setYouzanSource": Write(
        Permission.MANAGE_CHANNELS, {"input": {"clientId": "c", "clientSecret": "s"}}, "own_tenant"
    ),
    "setOrderWebhook": Write(Permission.MANAGE_CHANNELS, {}, "own_tenant"),
    "rotateOrderWebhookSecret": Write(
        Permission.MANAGE_CHANNELS, {"overlapHours": 1}, "own_tenant"
    ),
    "clearSource": Write(Permission.MANAGE_CHANNELS, {"kind": "ORDERS"}, "own_tenant"),
    "createApiKey": Write(
        Permission.MANAGE_API_KEYS, {"input": {"name": "probe", "role": "VIEWER"}}, "own_tenant"
    ),
    "revokeApiKey": Write(Permission.MANAGE_API_KEYS, {"id": "$apiKey"}),
}

SUBSCRIPTIONS: dict[str, Elsewhere] = {
    "enrollmentTransitions": Elsewhere("tests/api/test_subscriptions.py"),
    "customerTimeline": Elsewhere("tests/api/test_subscriptions.py"),
    "operationProgress": Elsewhere("tests/api/test_subscriptions.py"),
}
