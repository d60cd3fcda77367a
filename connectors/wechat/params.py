"""Params of the WeChat actions, checked before anything is sent.

Template data is `{keyword: text}`; each text is a template (`domain.templating`) rendered per
customer and sent as WeChat's `{keyword: {"value": text}}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.templating import template_field
from domain.wechat import APPID_PATTERN, MAX_TEMPLATE_VALUE_LENGTH

Keyword = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")]
TemplateText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEMPLATE_VALUE_LENGTH)]
TemplateId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]
PagePath = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: TemplateId = Field(description="The template's id in the WeChat console.")
    data: dict[Keyword, TemplateText] = template_field(
        min_length=1,
        max_length=20,
        description="Keyword (e.g. `thing1`, `time2`) → text, rendered per customer.",
    )


class _OpensMiniProgram(_Params):
    miniprogram_appid: str | None = Field(
        default=None, pattern=APPID_PATTERN, description="A mini-program the message opens."
    )
    miniprogram_page: PagePath | None = Field(
        default=None, description="The page of that mini-program (`pages/index/index?x=1`)."
    )

    @model_validator(mode="after")
    def _page_needs_app(self) -> _OpensMiniProgram:
        if self.miniprogram_page is not None and self.miniprogram_appid is None:
            raise ValueError("miniprogram_page needs miniprogram_appid")
        return self

    def miniprogram(self) -> dict[str, str] | None:
        """WeChat's `miniprogram` object, or None."""
        if self.miniprogram_appid is None:
            return None
        return {"appid": self.miniprogram_appid, "pagepath": self.miniprogram_page or ""}


class TemplateMessageParams(_OpensMiniProgram):
    """`message/template/send`: an Official Account template message to a follower."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=1024)] | None = (
        Field(default=None, description="A web page the message opens (when no mini-program).")
    )


class SubscriptionMessageParams(_OpensMiniProgram):
    """`message/subscribe/bizsend`: an Official Account subscription notice."""

    page: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=1024)] | None = (
        Field(default=None, description="A web page the notice opens.")
    )


class SubscribeMessageParams(_Params):
    """`message/subscribe/send`: a mini-program subscribe message, spending one authorisation."""

    page: PagePath | None = Field(default=None, description="The mini-program page it opens.")
    miniprogram_state: Literal["developer", "trial", "formal"] = Field(
        default="formal", description="Which version of the mini-program the message opens."
    )
    lang: Literal["zh_CN", "en_US", "zh_HK", "zh_TW"] = "zh_CN"


def rendered_data(data: dict[str, str], render: Any) -> dict[str, dict[str, str]]:
    """WeChat's `data` object: each keyword's text rendered by `render(text)`."""
    return {keyword: {"value": render(text)} for keyword, text in data.items()}
