"""The `sandbox` channel: a stand-in messaging channel for demos, tests and benchmarks.

It performs no I/O. `send_message` renders `{{attribute}}` placeholders from the customer's
attributes (dotted names reach into nested attributes; unknown ones render empty) and answers an
`external_id` derived from the idempotency key and the rendered text, so a retried action gets
the same id, and it de-duplicates by idempotency key as a careful channel would: a repeated
key answers the first outcome again without sending twice. Its `simulate` param lets a journey exercise the failure paths on purpose. `noop`
does nothing at all, to measure the orchestration around an action.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import ActionOutcome, ActionRequest, ActionSpec, action_spec, parse_params
from connectors.errors import PermanentChannelError, TransientChannelError

CHANNEL = "sandbox"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*\}\}")


class SendMessageParams(BaseModel):
    """Params of `sandbox.send_message`."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="May use {{attribute}}.")
    to: Literal["contact", "group", "oa", "sms"] = "contact"
    template: str | None = Field(default=None, description="A template name, recorded as is.")
    simulate: Literal["ok", "transient", "permanent"] = Field(
        default="ok", description="Fail on purpose to exercise retries and `failed` edges."
    )


class NoopParams(BaseModel):
    """`sandbox.noop` takes no params."""

    model_config = ConfigDict(extra="forbid")


def render(text: str, attributes: Mapping[str, Any]) -> str:
    """Replace each `{{name}}` (or `{{a.b}}`) with the attribute's value; unknown ones vanish."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = attributes
        for part in match.group(1).split("."):
            if not isinstance(value, Mapping) or part not in value:
                return ""
            value = value[part]
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(lookup, text)


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
        text = render(params.text, request.customer.attributes)
        outcome = ActionOutcome(
            external_id=message_id(request.idempotency_key, text),
            detail={"to": params.to, "template": params.template, "text": text},
        )
        self._sent[request.idempotency_key] = outcome
        if len(self._sent) > self._keep:
            self._sent.popitem(last=False)
        return outcome
