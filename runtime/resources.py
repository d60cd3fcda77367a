"""The process's long-lived resources, made once in a main and closed on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from temporalio.client import Client

from connectors import DestinationGuard, WebhookConnector, default_registry
from connectors.email import EmailConnector
from connectors.registry import ConnectorRegistry
from connectors.sms import SmsConnector
from connectors.wechat import MiniProgramConnector, OfficialAccountConnector, WeChatClient
from connectors.wecom import WeComClient, WeComConnector
from domain.sms import SETTINGS_KIND as SMS_SETTINGS
from domain.sms import SmsSettings
from runtime.secrets import secret_box
from runtime.settings import Settings, mongo_client_options
from store.database import Store
from store.webhook_secrets import CachedSigningSecrets
from workflows import search_attributes
from workflows.converter import DATA_CONVERTER

log = logging.getLogger(__name__)


async def connect_temporal(address: str, namespace: str, *, wait: float = 30.0) -> Client:
    """A Temporal client, waiting up to `wait` seconds for a frontend that is still starting.

    A freshly started (or restarted) server accepts connections before its frontend is healthy
    and refuses the first calls with "Frontend is not healthy yet"; a process starting beside it
    waits that out instead of failing its start-up.
    """
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            return await Client.connect(address, namespace=namespace, data_converter=DATA_CONVERTER)
        except RuntimeError as err:
            if "not healthy" not in str(err) or asyncio.get_running_loop().time() >= deadline:
                raise
            log.info("Temporal at %s is still starting; waiting", address)
            await asyncio.sleep(0.5)


@dataclass
class Resources:
    """One MongoDB client, one Temporal client, one HTTP client, and what is built on them.

    `wecom` is both the `wecom` channel of the registry and the API's code provisioner;
    `wecom_client` (its client) is shared with the mass-message result poller. The `oa` and
    `miniprogram` channels share `wechat_client`. `email` is the `email` channel; its guard
    (EMAIL_ALLOWED_NETWORKS) also decides the SMTP hosts admins may configure. The registry also
    holds the `sms` channel, sending through each tenant's configured provider.
    """

    settings: Settings
    mongo: AsyncMongoClient[dict[str, Any]]
    store: Store
    temporal: Client
    http: httpx.AsyncClient
    registry: ConnectorRegistry
    wecom_client: WeComClient
    wecom: WeComConnector
    wechat_client: WeChatClient
    email: EmailConnector


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, mongodb_uri: str, temporal_address: str
) -> AsyncIterator[Resources]:
    """Connect to MongoDB and Temporal, create indexes and search attributes, seal stored
    secrets under the primary key, yield, close."""
    box = secret_box(settings)  # before connecting: a missing SECRETS_KEYS fails fast
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_uri, **mongo_client_options(settings)
    )
    try:
        store = Store(
            mongo[settings.mongodb_database], box, max_time_ms=settings.mongodb_max_time_ms
        )
        await store.ensure_indexes()
        await store.reseal_secrets()
        if settings.webhook_signing_secret is not None:
            log.warning(
                "WEBHOOK_SIGNING_SECRET is deprecated: tenants without a webhook secret of their "
                "own start with it; rotate each tenant's (rotateWebhookSecret) and unset it"
            )
        temporal = await connect_temporal(temporal_address, settings.temporal_namespace)
        try:
            await search_attributes.register(temporal)
        except Exception as err:  # a production namespace may forbid it; ops register them
            log.warning("could not register search attributes: %s", err)
        webhook = WebhookConnector(
            CachedSigningSecrets(store.webhook_secrets, settings.webhook_signing_secret),
            DestinationGuard(settings.webhook_allowed_networks),
        )
        async with httpx.AsyncClient() as http, webhook:
            registry = default_registry(webhook)
            wecom_client = WeComClient(http, store.wecom_credentials)
            wecom = WeComConnector(wecom_client, store.wecom_allowances, store.wecom_transfers)
            registry.register(wecom)

            async def sms_settings(tenant_id: str) -> SmsSettings | None:
                return await store.channel_settings.get(tenant_id, SMS_SETTINGS, SmsSettings)

            registry.register(SmsConnector(http, sms_settings, store.sms_messages))
            wechat_client = WeChatClient(http, store.wechat_apps)
            registry.register(OfficialAccountConnector(wechat_client))
            registry.register(MiniProgramConnector(wechat_client, store.miniprogram_authorizations))
            email = EmailConnector(
                store.email, settings.base_url, DestinationGuard(settings.email_allowed_networks)
            )
            registry.register(email)
            yield Resources(
                settings=settings,
                mongo=mongo,
                store=store,
                temporal=temporal,
                http=http,
                registry=registry,
                wecom_client=wecom_client,
                wecom=wecom,
                wechat_client=wechat_client,
                email=email,
            )
    finally:
        await mongo.close()
