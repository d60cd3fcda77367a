"""The `sandbox` channel: a stand-in messaging channel for demos, tests and benchmarks.

It performs no I/O. `send_message` renders its text (`connectors.base.render_text`) and answers an
`external_id` derived from the idempotency key and the rendered text, so a retried action gets
the same id, and it de-duplicates by idempotency key as a careful channel would: a repeated
key answers the first outcome again without sending twice. Its `simulate` param lets a journey exercise the failure paths on purpose. `noop`
does nothing at all, to measure the orchestration around an action.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import (
    ActionOutcome,
    ActionRequest,
    ActionSpec,
    action_spec,
    parse_params,
    render_text,
)
from connectors.errors import PermanentChannelError, TransientChannelError
from domain.templating import template_field

CHANNEL = "sandbox"


class SendMessageParams(BaseModel):
    """Params of `sandbox.send_message`."""

    model_config = ConfigDict(extra="forbid")

    text: str = template_field(
        min_length=1, max_length=2000, description="A template (`domain.templating`)."
    )
    to: Literal["contact", "group", "oa", "sms"] = "contact"
    template: str | None = Field(default=None, description="A template name, recorded as is.")
    simulate: Literal["ok", "transient", "permanent"] = Field(
        default="ok", description="Fail on purpose to exercise retries and `failed` edges."
    )


class NoopParams(BaseModel):
    """`sandbox.noop` takes no params."""

    model_config = ConfigDict(extra="forbid")


def message_id(idempotency_key: str, text: str) -> str:
    """The deterministic id of a sandbox message."""
    digest = hashlib.sha256(f"{idempotency_key}\n{text}".encode()).hexdigest()
    return f"sbx_{digest[:24]}"


class SandboxConnector:
    """The `sandbox` channel; remembers the last `keep` messages it sent, by idempotency key."""

    name = CHANNEL
    actions: Mapping[str, ActionSpec] = {
        "send_message": ActionSpec(
            "send_message",
            SendMessageParams,
            "Pretend to send a text message (placeholders rendered from customer attributes).",
        ),
        "noop": ActionSpec("noop", NoopParams, "Do nothing; for benchmarks."),
    }

    def __init__(self, keep: int = 1000) -> None:
        self._keep = keep
        self._sent: OrderedDict[str, ActionOutcome] = OrderedDict()

    @property
    def sent(self) -> list[ActionOutcome]:
        """Messages sent (each idempotency key once), oldest first."""
        return list(self._sent.values())

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Validate the params and answer as a channel would, without any I/O."""
        spec = action_spec(self.name, self.actions, request.action)
        if spec.name == "noop":
            parse_params(self.name, spec.name, NoopParams, request.params)
            return ActionOutcome()
        params = parse_params(self.name, spec.name, SendMessageParams, request.params)
        if params.simulate == "transient":
            raise TransientChannelError("sandbox: simulated transient failure")
        if params.simulate == "permanent":
            raise PermanentChannelError("sandbox: simulated permanent failure", "simulated")
        already = self._sent.get(request.idempotency_key)
        if already is not None:
            return already
        text = render_text(request, params.text)
        outcome = ActionOutcome(
            external_id=message_id(request.idempotency_key, text),
            detail={"to": params.to, "template": params.template, "text": text},
        )
        self._sent[request.idempotency_key] = outcome
        if len(self._sent) > self._keep:
            self._sent.popitem(last=False)
        return outcome
