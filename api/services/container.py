"""The services one app instance shares, built once from the injected resources."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client

from api.services.api_keys import ApiKeyService
from api.services.dead_letters import DeadLetterService
from api.services.email_inbound import EmailInboundService
from api.services.email_settings import EmailSettingsService, HostPolicy
from api.services.enrollments import EnrollmentService
from api.services.experiments import ExperimentService
from api.services.journeys import JourneyService
from api.services.live import LiveService
from api.services.messaging import MessagingPolicyService
from api.services.metrics import MetricsService
from api.services.migrations import MigrationService
from api.services.operations import OperationService
from api.services.ports import (
    CallbackCodec,
    ChannelCatalog,
    Clock,
    CodeProvisioner,
    GroupDirectory,
    WeChatPushCodec,
    utc_now,
)
from api.services.schedules import ScheduleService
from api.services.segments import SegmentEntry
from api.services.simulation_runner import ProcessRunner, SimulationRunner
from api.services.simulations import SimulationRuns, SimulationService
from api.services.sms_callbacks import SmsCallbackService
from api.services.sms_settings import SmsSettingsService
from api.services.source_settings import SourceSettingsService
from api.services.sources import SourceService
from api.services.webhooks import WebhookSecretService
from api.services.wechat_callbacks import WeChatCallbackService
from api.services.wechat_settings import WeChatSettingsService
from api.services.wecom import HookService, WeComCallbackService, WeComSettingsService
from ingestion.merges import MergeService
from ingestion.service import IngestService
from ingestion.sweeps import Sweeps
from store.database import Store


@dataclass(frozen=True, slots=True)
class Services:
    """Repositories, the Temporal client and the application services over them."""

    store: Store
    temporal: Client
    channels: ChannelCatalog
    ingest: IngestService
    dead_letters: DeadLetterService
    journeys: JourneyService
    enrollments: EnrollmentService
    wecom_callbacks: WeComCallbackService
    hooks: HookService
    wecom_settings: WeComSettingsService
    sms_settings: SmsSettingsService
    sms_callbacks: SmsCallbackService
    wechat_callbacks: WeChatCallbackService
    wechat_settings: WeChatSettingsService
    sources: SourceService
    source_settings: SourceSettingsService
    webhooks: WebhookSecretService
    email_settings: EmailSettingsService
    email_inbound: EmailInboundService
    operations: OperationService
    live: LiveService
    metrics: MetricsService
    experiments: ExperimentService
    messaging: MessagingPolicyService
    schedules: ScheduleService
    migrations: MigrationService
    simulations: SimulationService
    api_keys: ApiKeyService
    merges: MergeService
    sweeps: Sweeps
    """Carries on work a dead process left: bulk operations, merges (`start_sweeps`)."""
    temporal_ui_url: str | None
    """Base URL of the Temporal Web UI, for links to workflow histories; None: no links."""

    @classmethod
    def build(
        cls,
        store: Store,
        temporal: Client,
        channels: ChannelCatalog,
        clock: Clock = utc_now,
        *,
        wecom_codec: CallbackCodec | None = None,
        provisioner: CodeProvisioner | None = None,
        wecom_groups: GroupDirectory | None = None,
        temporal_ui_url: str | None = None,
        wecom_base_urls: Collection[str] = (),
        sms_base_urls: Collection[str] = (),
        email_hosts: HostPolicy | None = None,
        operation_lease: timedelta = timedelta(seconds=60),
        wechat_codec: WeChatPushCodec | None = None,
        wechat_base_urls: Collection[str] = (),
        simulation_runner: SimulationRunner | None = None,
    ) -> Services:
        """Wire the services over the given resources (WeCom parts only when given).

        `wecom_base_urls`: API roots admins may connect WeCom to besides WeCom's own.
        `sms_base_urls`: API roots admins may point SMS at besides the providers' own.
        `wecom_base_urls`: API roots admins may connect WeCom to besides WeCom's own;
        `wechat_base_urls` the same for WeChat apps. `wechat_codec` opens WeChat pushes.
        `email_hosts`: which SMTP hosts admins may configure (the e-mail channel's guard).
        `operation_lease`: how long a bulk operation stays with the process running it without
        progress before another process may take it over. `simulation_runner`: where
        simulations run (default: a child process each).
        """
        merges = MergeService(store, temporal, clock)
        experiments = ExperimentService(store, clock)
        ingest = IngestService(store, temporal, clock, merges=merges)
        enrollments = EnrollmentService(store, temporal, merges)
        segments = SegmentEntry(store, enrollments.enroll, clock, lease=operation_lease)
        runs = SimulationRuns(
            store, simulation_runner or ProcessRunner(), clock, lease=operation_lease
        )
        operations = OperationService(
            store,
            temporal,
            ingest,
            clock,
            lease=operation_lease,
            segments=segments,
            simulations=runs,
        )
        journeys = JourneyService(store, channels, clock)
        messaging = MessagingPolicyService(store, clock)
        return cls(
            store=store,
            temporal=temporal,
            channels=channels,
            ingest=ingest,
            dead_letters=DeadLetterService(store, ingest),
            journeys=journeys,
            enrollments=enrollments,
            wecom_callbacks=WeComCallbackService(
                store, ingest, wecom_codec, clock, groups=wecom_groups
            ),
            hooks=HookService(store, provisioner, clock),
            wecom_settings=WeComSettingsService(store, wecom_base_urls),
            sms_settings=SmsSettingsService(store, sms_base_urls, clock),
            sms_callbacks=SmsCallbackService(store, ingest, clock),
            wechat_callbacks=WeChatCallbackService(store, ingest, wechat_codec, clock),
            wechat_settings=WeChatSettingsService(store, wechat_base_urls, clock),
            sources=SourceService(store, ingest, clock),
            source_settings=SourceSettingsService(store, clock),
            webhooks=WebhookSecretService(store, clock),
            email_settings=EmailSettingsService(store, email_hosts, clock),
            email_inbound=EmailInboundService(store, ingest, clock),
            operations=operations,
            live=LiveService(store, clock),
            metrics=MetricsService(store, clock),
            experiments=experiments,
            messaging=messaging,
            schedules=ScheduleService(store, temporal, clock),
            migrations=MigrationService(store, operations),
            simulations=SimulationService(store, journeys, messaging, operations),
            api_keys=ApiKeyService(store.tenants, clock),
            merges=merges,
            sweeps=Sweeps(
                [
                    ("unrouted events", ingest.recover),
                    ("bulk operations", operations.resume_abandoned),
                    ("customer merges", merges.sweep),
                    ("experiment winners", experiments.decide_due),
                ]
            ),
            temporal_ui_url=temporal_ui_url,
        )

    def start_sweeps(self, interval: float) -> None:
        """Resume work other processes left unfinished, now and every `interval` seconds."""
        self.sweeps.start(interval)

    async def drain(self) -> None:
        """Wait for work the services still run in the background (call at shutdown)."""
        await self.sweeps.stop()
        await self.ingest.drain()
