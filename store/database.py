"""The store: every repository over one database, and the indexes they rely on
(`store.indexes`).

`Store(db)` is cheap (no I/O); call `await store.ensure_indexes()` once at start-up. Creating an
index that already exists with the same options is a no-op, so it is safe on every start.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store.backtest import BacktestReader
from store.callbacks import CallbackRepository
from store.channel_credentials import WeComCredentialsRepository
from store.channel_settings import ChannelSettingsRepository
from store.customers import CustomerRepository
from store.dead_letters import DeadLetterRepository
from store.deliveries import DeliveryRepository
from store.email import EmailRecords
from store.enrollments import EnrollmentRepository
from store.entry_schedules import EntryScheduleRepository
from store.events import EventRepository
from store.experiments import ExperimentRepository
from store.hooks import HookRepository
from store.indexes import INDEXES, OBSOLETE_INDEXES
from store.journeys import JourneyRepository
from store.live import LiveFeedRepository
from store.metrics import MetricsRepository
from store.miniprogram_authorizations import AuthorizationLedger
from store.mongo import DEFAULT_MAX_TIME_MS, collection
from store.operations import OperationRepository
from store.secretbox import SecretBox, SecretError
from store.simulations import SimulationRepository
from store.sms_messages import SmsMessageRepository
from store.tenants import TenantRepository
from store.timeline import TimelineRepository
from store.touch_counters import TouchCounters
from store.webhook_secrets import WebhookSecretRepository
from store.wechat_apps import WeChatApps
from store.wecom_ledgers import AllowanceLedger, TransferLedger


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
        self.entry_schedules = EntryScheduleRepository(db)
        self.customers = CustomerRepository(db, max_time_ms)
        self.events = EventRepository(db)
        self.dead_letters = DeadLetterRepository(db, max_time_ms)
        self.enrollments = EnrollmentRepository(db, max_time_ms)
        self.deliveries = DeliveryRepository(db, max_time_ms)
        self.timeline = TimelineRepository(db, max_time_ms)
        self.operations = OperationRepository(db, max_time_ms)
        self.simulations = SimulationRepository(db)
        self.backtest = BacktestReader(db, self.customers)
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
