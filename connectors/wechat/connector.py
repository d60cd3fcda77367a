"""The `oa` and `miniprogram` channels: journey actions on WeChat's message APIs.

    oa.template_message          message/template/send; WeChat later pushes TEMPLATESENDJOBFINISH,
                                 which comes back as `oa.template_delivered` / `oa.template_failed`
                                 (its `msgid` is the delivery's external id)
    oa.subscription_message      message/subscribe/bizsend
    miniprogram.subscribe_message  message/subscribe/send, spending one of the customer's
                                 one-time authorisations for the template first

The recipient is the customer's openid under the app (`wechat_openid`, `miniprogram_openid`).
A template message carries `client_msg_id` (derived from the idempotency key), with which WeChat
drops a repeated send. A mini-program send spends one of the openid's authorisations (counted by openid, as WeChat
counts them, so a merge of customer records keeps them) under the idempotency key, so
a retried activity spends none again; a send refused before it could reach the user (invalid
template or argument, not the missing authorisation 43101) gives it back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from connectors.base import (
    ActionOutcome,
    ActionRequest,
    ActionSpec,
    action_spec,
    parse_params,
    render_text,
)
from connectors.errors import PermanentChannelError
from connectors.wechat.client import WeChatApiError, WeChatClient
from connectors.wechat.params import (
    SubscribeMessageParams,
    SubscriptionMessageParams,
    TemplateMessageParams,
    rendered_data,
)
from connectors.wechat.ports import Authorizations
from domain.customers import MINIPROGRAM_OPENID, WECHAT_OPENID
from domain.wechat import MINIPROGRAM, OA

NOT_AUTHORIZED = 43101
NO_AUTHORIZATION = "miniprogram.no_authorization"


def _openid(request: ActionRequest, kind: str, channel: str) -> str:
    openid = request.customer.identities.get(kind)
    if not openid:
        raise PermanentChannelError(
            f"the customer has no {kind} identity", code=f"{channel}.no_openid"
        )
    return openid


def client_msg_id(idempotency_key: str) -> str:
    """WeChat's de-duplication id of a template send (at most 64 characters)."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def _msgid(answer: Mapping[str, Any]) -> str | None:
    value = answer.get("msgid")
    return None if value is None or isinstance(value, bool) else str(value)


class OfficialAccountConnector:
    """The `oa` channel over a `WeChatClient`."""

    name = OA
    actions: Mapping[str, ActionSpec] = {
        "template_message": ActionSpec(
            "template_message",
            TemplateMessageParams,
            "Send a template message to a follower; its delivery comes back as an event.",
        ),
        "subscription_message": ActionSpec(
            "subscription_message",
            SubscriptionMessageParams,
            "Send a subscription notice the follower has accepted.",
        ),
    }

    def __init__(self, client: WeChatClient) -> None:
        self.client = client

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate the params, then send once."""
        spec = action_spec(self.name, self.actions, request.action)
        params = parse_params(self.name, spec.name, spec.params_model, request.params)
        assert isinstance(params, TemplateMessageParams | SubscriptionMessageParams)
        openid = _openid(request, WECHAT_OPENID, self.name)
        data = rendered_data(params.data, lambda text: render_text(request, text))
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": params.template_id,
            "data": data,
        }
        if params.miniprogram() is not None:
            payload["miniprogram"] = params.miniprogram()
        if isinstance(params, TemplateMessageParams):
            if params.url is not None:
                payload["url"] = params.url
            payload["client_msg_id"] = client_msg_id(request.idempotency_key)
            path = "message/template/send"
        else:
            assert isinstance(params, SubscriptionMessageParams)
            if params.page is not None:
                payload["page"] = params.page
            path = "message/subscribe/bizsend"
        answer = await self.client.call(request.tenant_id, OA, path, payload)
        msgid = _msgid(answer)
        return ActionOutcome(
            external_id=msgid, detail={"msgid": msgid, "template_id": params.template_id}
        )


class MiniProgramConnector:
    """The `miniprogram` channel over a `WeChatClient`; authorisations are kept by a port."""

    name = MINIPROGRAM
    actions: Mapping[str, ActionSpec] = {
        "subscribe_message": ActionSpec(
            "subscribe_message",
            SubscribeMessageParams,
            "Send a subscribe message, spending one of the customer's authorisations for it.",
        ),
    }

    def __init__(self, client: WeChatClient, authorizations: Authorizations) -> None:
        self.client = client
        self._authorizations = authorizations

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate the params, spend an authorisation, then send once."""
        spec = action_spec(self.name, self.actions, request.action)
        params = parse_params(self.name, spec.name, spec.params_model, request.params)
        assert isinstance(params, SubscribeMessageParams)
        openid = _openid(request, MINIPROGRAM_OPENID, self.name)
        await self.client.settings(request.tenant_id, MINIPROGRAM)  # not configured: spend none
        tenant, key = request.tenant_id, request.idempotency_key
        if not await self._authorizations.consume(tenant, openid, params.template_id, key):
            raise PermanentChannelError(
                f"the customer has not authorised template {params.template_id} (or used up "
                "every authorisation)",
                code=NO_AUTHORIZATION,
            )
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": params.template_id,
            "data": rendered_data(params.data, lambda text: render_text(request, text)),
            "miniprogram_state": params.miniprogram_state,
            "lang": params.lang,
        }
        if params.page is not None:
            payload["page"] = params.page
        try:
            answer = await self.client.call(tenant, MINIPROGRAM, "message/subscribe/send", payload)
        except WeChatApiError as err:
            # Refused before reaching the user: the authorisation is still theirs, unless WeChat
            # says there was none to spend.
            if err.errcode != NOT_AUTHORIZED:
                await self._authorizations.release(tenant, openid, params.template_id, key)
            raise
        # A transient failure keeps the authorisation spent: the retry (same key) reuses it.
        msgid = _msgid(answer)
        return ActionOutcome(
            external_id=msgid, detail={"msgid": msgid, "template_id": params.template_id}
        )
