"""Channel connectors behind one `Connector` protocol (see `connectors.base`).

`default_registry` assembles the channels this build ships; the composition root (`runtime/`)
makes the webhook connector (with the source of the tenants' signing secrets and the
deployment's destination allow-list, `connectors.netguard`), closes it on the way out, and passes
it in.
"""

from __future__ import annotations

from connectors.base import ActionOutcome, ActionRequest, ActionSpec, Connector, CustomerContact
from connectors.errors import (
    ChannelError,
    InvalidActionParams,
    PermanentChannelError,
    TransientChannelError,
    UnknownAction,
    UnknownChannel,
)
from connectors.netguard import DestinationGuard
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
    "DestinationGuard",
    "FixedSigningSecrets",
    "InvalidActionParams",
    "PermanentChannelError",
    "SigningSecrets",
    "TransientChannelError",
    "UnknownAction",
    "UnknownChannel",
    "WeComClient",
    "WeComConnector",
    "WebhookConnector",
    "default_registry",
]


def default_registry(webhook: WebhookConnector) -> ConnectorRegistry:
    """A registry with every shipped channel: `sandbox` and the given `webhook` connector."""
    return ConnectorRegistry([SandboxConnector(), webhook])
