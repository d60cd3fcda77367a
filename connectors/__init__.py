"""Channel connectors behind one `Connector` protocol (see `connectors.base`).

`default_registry` assembles the channels this build ships; the composition root (`runtime/`)
creates the shared HTTP client and the source of the tenants' webhook signing secrets, then
calls it.
"""

from __future__ import annotations

import httpx

from connectors.base import ActionOutcome, ActionRequest, ActionSpec, Connector, CustomerContact
from connectors.errors import (
    ChannelError,
    InvalidActionParams,
    PermanentChannelError,
    TransientChannelError,
    UnknownAction,
    UnknownChannel,
)
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.webhook import FixedSigningSecrets, SigningSecrets, WebhookConnector
from connectors.wecom import WeComClient, WeComConnector

__all__ = [
    "ActionOutcome",
    "ActionRequest",
    "ActionSpec",
    "ChannelError",
    "Connector",
    "ConnectorRegistry",
    "CustomerContact",
    "FixedSigningSecrets",
    "InvalidActionParams",
    "PermanentChannelError",
    "SigningSecrets",
    "TransientChannelError",
    "UnknownAction",
    "UnknownChannel",
    "WeComClient",
    "WeComConnector",
    "default_registry",
]


def default_registry(
    http_client: httpx.AsyncClient, webhook_secrets: SigningSecrets
) -> ConnectorRegistry:
    """A registry with every shipped channel: `sandbox` and `webhook` (posting via `http_client`,
    signing with the tenant's secrets from `webhook_secrets`)."""
    return ConnectorRegistry([SandboxConnector(), WebhookConnector(http_client, webhook_secrets)])
