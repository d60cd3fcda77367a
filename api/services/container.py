"""The services one app instance shares, built once from the injected resources."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client

from api.services.enrollments import EnrollmentService
from api.services.ingest import IngestService
from api.services.journeys import JourneyService
from api.services.ports import ChannelCatalog, Clock, utc_now
from store.database import Store


@dataclass(frozen=True, slots=True)
class Services:
    """Repositories, the Temporal client and the application services over them."""

    store: Store
    temporal: Client
    channels: ChannelCatalog
    ingest: IngestService
    journeys: JourneyService
    enrollments: EnrollmentService

    @classmethod
    def build(
        cls, store: Store, temporal: Client, channels: ChannelCatalog, clock: Clock = utc_now
    ) -> Services:
        """Wire the services over the given resources."""
        return cls(
            store=store,
            temporal=temporal,
            channels=channels,
            ingest=IngestService(store, temporal, clock),
            journeys=JourneyService(store, channels, clock),
            enrollments=EnrollmentService(store, temporal),
        )
