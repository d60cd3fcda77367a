"""Params of the `sms` channel's action.

`send` names a template approved at the tenant's provider (Alibaba Cloud `TemplateCode` such as
`SMS_123456`, Tencent Cloud `TemplateId` such as `1110`) and its variables. Alibaba Cloud's
variables are named (`${code}` ← `{"code": ...}`); Tencent Cloud's are positional (`{1}`, `{2}`)
and take the values in the order given. Each value is a template rendered for the customer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.templating import template_field

MAX_TEMPLATE_PARAMS = 20
MAX_PARAM_LENGTH = 500


class SendParams(BaseModel):
    """`sms.send`: one templated SMS to the customer's `phone`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The approved template: Alibaba Cloud TemplateCode / Tencent TemplateId.",
    )
    template_params: dict[str, str] = template_field(
        default_factory=dict,
        max_length=MAX_TEMPLATE_PARAMS,
        description="Template variables (name → value template); Tencent takes the values in "
        "this order.",
    )

    @field_validator("template_params")
    @classmethod
    def _bounded(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not name or len(name) > 64:
                raise ValueError("variable names are 1 to 64 characters")
            if len(text) > MAX_PARAM_LENGTH:
                raise ValueError(f"a variable's value is at most {MAX_PARAM_LENGTH} characters")
        return value
