"""Params of the e-mail channel's actions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.templating import template_field


class SendParams(BaseModel):
    """Params of `email.send`: one message to the customer's `email` identity."""

    model_config = ConfigDict(extra="forbid")

    subject: str = template_field(
        min_length=1,
        max_length=400,
        description="The subject, a template (`domain.templating`); line breaks become spaces.",
    )
    text: str = template_field(
        min_length=1, max_length=100_000, description="The plain-text body, a template."
    )
    html: str | None = template_field(
        default=None,
        max_length=200_000,
        description="An HTML body sent as the alternative to `text`, a template; null: text only.",
    )
    from_name: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[^\r\n\x00]*$",
        description="The sender's display name for this message; null: the tenant's setting.",
    )
