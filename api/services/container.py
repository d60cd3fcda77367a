"""The services one app instance shares, built once from the injected resources."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from temporalio.client import Client

from api.services.api_keys import ApiKeyService
from api.services.dead_letters import DeadLetterService
from api.services.enrollments import EnrollmentService
from api.services.ingest import IngestService
from api.services.journeys import JourneyService
from api.services.live import LiveService
from api.services.metrics import MetricsService
from api.services.operations import OperationService
from api.services.ports import (
    CallbackCodec,
    ChannelCatalog,
    Clock,
    CodeProvisioner,
    GroupDirectory,
    utc_now,
)
from api.services.webhooks import WebhookSecretService
from api.services.wecom import HookService, WeComCallbackService, WeComSettingsService
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
    webhooks: WebhookSecretService
    operations: OperationService
    live: LiveService
    metrics: MetricsService
    api_keys: ApiKeyService
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
    ) -> Services:
        """Wire the services over the given resources (WeCom parts only when given).

        `wecom_base_urls`: API roots admins may connect WeCom to besides WeCom's own.
        """
        ingest = IngestService(store, temporal, clock)
        return cls(
            store=store,
            temporal=temporal,
            channels=channels,
            ingest=ingest,
            dead_letters=DeadLetterService(store, ingest),
            journeys=JourneyService(store, channels, clock),
            enrollments=EnrollmentService(store, temporal),
            wecom_callbacks=WeComCallbackService(
                store, ingest, wecom_codec, clock, groups=wecom_groups
            ),
            hooks=HookService(store, provisioner, clock),
            wecom_settings=WeComSettingsService(store, wecom_base_urls),
            webhooks=WebhookSecretService(store, clock),
            operations=OperationService(store, temporal, ingest, clock),
            live=LiveService(store, clock),
            metrics=MetricsService(store, clock),
            api_keys=ApiKeyService(store.tenants, clock),
            temporal_ui_url=temporal_ui_url,
        )

    async def drain(self) -> None:
        """Wait for work the services still run in the background (call at shutdown)."""
        await self.ingest.drain()
