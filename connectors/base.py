"""The one port every channel sits behind: `Connector.execute(ActionRequest) -> ActionOutcome`.

A connector names its channel (`name`), declares its actions (`actions`, each with a pydantic
params model that journey validation checks node params against), and performs one action per
call. It validates `request.params` with the action's params model before any side effect, raises
only the types of `connectors.errors`, and passes `request.idempotency_key` to the channel wherever
the channel can de-duplicate, so that a retried activity never causes a second side effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.errors import (
    InvalidActionParamsError,
    PermanentChannelError,
    UnknownActionError,
)
from domain import templating
from domain.template_fields import render_templates

ParamsT = TypeVar("ParamsT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action of a channel: its name, the model its params must satisfy, and what it does."""

    name: str
    params_model: type[BaseModel]
    description: str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomerContact(_Model):
    """What a connector may know of the customer: ids per channel and profile attributes."""

    customer_id: str = Field(min_length=1)
    identities: dict[str, str] = Field(
        default_factory=dict, description="Identity kind (e.g. `wecom_external_userid`) → value."
    )
    attributes: dict[str, Any] = Field(default_factory=dict)


class ActionRequest(_Model):
    """One action to perform for one enrollment at one node visit."""

    tenant_id: str = Field(min_length=1)
    enrollment_id: str = Field(min_length=1)
    node_id: str = Field(min_length=1)
    action: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str = Field(min_length=1, max_length=512)
    customer: CustomerContact
    trigger: dict[str, Any] | None = Field(
        default=None,
        description="The last event the enrollment matched (`id`, `type`, `properties`), e.g. "
        "the `wecom.contact_added` whose `welcome_code` a welcome message needs.",
    )


class ActionOutcome(_Model):
    """What the channel answered: its id for the message/request (if any) and loggable detail."""

    external_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """A channel's adapter. Implementations live one per module in `connectors/`."""

    @property
    def name(self) -> str:
        """The channel name journeys refer to (`ActionNode.channel`)."""
        ...

    @property
    def actions(self) -> Mapping[str, ActionSpec]:
        """The channel's actions by name."""
        ...

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        """Perform `request.action`; raise `TransientChannelError` / `PermanentChannelError`."""
        ...


def action_spec(channel: str, actions: Mapping[str, ActionSpec], action: str) -> ActionSpec:
    """The spec of `action`, or `UnknownActionError` naming the channel's actions."""
    try:
        return actions[action]
    except KeyError:
        raise UnknownActionError(channel, action, actions) from None


def parse_params(channel: str, action: str, model: type[ParamsT], params: Any) -> ParamsT:
    """Validate `params` with `model`, or raise `InvalidActionParamsError` with one line per problem.

    The offending values are left out of the message: params may carry customer data.
    """
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(params)'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidActionParamsError(channel, action, problems) from exc


def render_text(request: ActionRequest, source: str) -> str:
    """`source` rendered for the request's customer and trigger event (`domain.templating`);
    every connector renders customer-facing text through this.

    A template that cannot be rendered for this customer (a missing variable, a filter error)
    is a `PermanentChannelError` (code `template_error`) naming the node: retrying cannot help.
    """
    context = templating.template_context(
        request.customer.attributes,
        request.customer.identities,
        request.trigger,
        customer_id=request.customer.customer_id,
    )
    try:
        return templating.render(source, context)
    except templating.TemplateError as exc:
        raise PermanentChannelError(
            f"node '{request.node_id}' ({request.action}): template error: {exc}",
            "template_error",
        ) from exc


def render_params(request: ActionRequest, params: ParamsT) -> ParamsT:
    """A copy of `params` with every `template_field` (nested ones too) rendered by
    `render_text`."""
    return render_templates(params, lambda source: render_text(request, source))
