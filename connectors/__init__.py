"""Channel connectors behind one `Connector` protocol (see `connectors.base`).

`default_registry` assembles the channels this build ships; the composition root (`runtime/`)
creates the shared HTTP client and reads the webhook signing secret, then calls it.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

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
from connectors.webhook import WebhookConnector
from connectors.wecom import WeComClient, WeComConnector

__all__ = [
    "ActionOutcome",
    "ActionRequest",
    "ActionSpec",
    "ChannelError",
    "Connector",
    "ConnectorRegistry",
    "CustomerContact",
    "InvalidActionParams",
    "PermanentChannelError",
    "TransientChannelError",
    "UnknownAction",
    "UnknownChannel",
    "WeComClient",
    "WeComConnector",
    "default_registry",
]


def default_registry(
    http_client: httpx.AsyncClient, webhook_secret: SecretStr
) -> ConnectorRegistry:
    """A registry with every shipped channel: `sandbox` and `webhook` (posting via `http_client`)."""
    return ConnectorRegistry([SandboxConnector(), WebhookConnector(http_client, webhook_secret)])
