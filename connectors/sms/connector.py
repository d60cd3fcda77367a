"""The `sms` channel: one templated SMS through the tenant's provider (Alibaba or Tencent Cloud).

The customer is reached at their `phone` identity; a customer without one fails permanently.
Template variables are rendered for the customer (`connectors.base.render_params`). The node
visit's idempotency key goes to the provider as a short reference (`reference_for`: Alibaba
Cloud `OutId`, Tencent Cloud `SessionContext`), and the accepted message is recorded with its
provider id, key and phone (`SentMessages`), which is what a delivery report is reconciled
against. Neither provider de-duplicates sends by that reference: a node visit sends once because
the connector activity answers a succeeded delivery from its record; an attempt whose answer was
lost after the provider accepted it can send a second SMS.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx

from connectors.base import (
    ActionOutcome,
    ActionRequest,
    ActionSpec,
    action_spec,
    parse_params,
    render_params,
)
from connectors.errors import PermanentChannelError
from connectors.sms.aliyun import AliyunSms
from connectors.sms.params import SendParams
from connectors.sms.ports import ProviderClient, SentMessages, SmsSettingsSource
from connectors.sms.tencent import TencentSms
from domain.customers import PHONE
from domain.sms import SentSms

CHANNEL = "sms"
log = logging.getLogger(__name__)


def reference_for(idempotency_key: str) -> str:
    """The short reference a node visit's key is sent as (32 hex characters)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def _now() -> datetime:
    return datetime.now(UTC)


class SmsConnector:
    """The `sms` channel over the providers' clients (module docstring)."""

    name = CHANNEL
    actions: Mapping[str, ActionSpec] = {
        "send": ActionSpec(
            "send",
            SendParams,
            "Send a templated SMS to the customer's phone (per-tenant provider).",
        )
    }

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: SmsSettingsSource,
        messages: SentMessages,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._settings = settings
        self._messages = messages
        self._clock = clock
        self._clients: dict[str, ProviderClient] = {
            "aliyun": AliyunSms(http),
            "tencent": TencentSms(http),
        }

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate, find the phone and the settings, render, send once, record."""
        spec = action_spec(self.name, self.actions, request.action)
        params = parse_params(self.name, spec.name, spec.params_model, request.params)
        assert isinstance(params, SendParams)
        phone = request.customer.identities.get(PHONE)
        if not phone:
            raise PermanentChannelError(
                f"customer {request.customer.customer_id} has no phone identity to send an SMS to",
                code="sms.no_phone",
            )
        settings = await self._settings(request.tenant_id)
        if settings is None:
            raise PermanentChannelError(
                f"tenant {request.tenant_id!r} has not configured SMS", code="sms.not_configured"
            )
        variables = dict(render_params(request, params).template_params)
        reference = reference_for(request.idempotency_key)
        client = self._clients[settings.provider]
        message_id = await client.send(settings, phone, params.template, variables, reference)
        sent = SentSms(
            tenant_id=request.tenant_id,
            provider=settings.provider,
            message_id=message_id or reference,
            reference=reference,
            idempotency_key=request.idempotency_key,
            phone=phone,
            customer_id=request.customer.customer_id,
            enrollment_id=request.enrollment_id,
            node_id=request.node_id,
            template=params.template,
            sent_at=self._clock(),
        )
        try:
            await self._messages.record(sent)
        except Exception:
            # The SMS is out: failing now would send it again on retry. Its report will not
            # reconcile and is dropped (logged at the callback).
            log.exception("recording SMS %s of tenant %s failed", message_id, request.tenant_id)
        return ActionOutcome(
            external_id=sent.message_id,
            detail={"provider": settings.provider, "reference": reference},
        )
