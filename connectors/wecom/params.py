"""Params of the `wecom` channel's actions, and their translation into WeCom's JSON shapes.

Journey validation checks node params against these models; the connector checks them again
before any call. Attachments follow WeCom's `{"msgtype": t, t: {...}}` shape, flattened:
`{"msgtype": "link", "title": ..., "url": ...}`. Texts people read (message text, card titles
and descriptions, the transfer message) are templates (`template_field`), rendered per customer
by the connector before the call.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.templating import template_field

MAX_ATTACHMENTS = 9
MAX_TEXT_LENGTH = 4000


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageAttachment(_Params):
    """An image, by uploaded `media_id` or by `pic_url`."""

    msgtype: Literal["image"] = "image"
    media_id: str | None = Field(default=None, min_length=1, description="An uploaded image.")
    pic_url: str | None = Field(default=None, min_length=1, description="An image URL.")

    @model_validator(mode="after")
    def _one_source(self) -> ImageAttachment:
        if (self.media_id is None) == (self.pic_url is None):
            raise ValueError("give exactly one of media_id and pic_url")
        return self


class LinkAttachment(_Params):
    """A link card."""

    msgtype: Literal["link"] = "link"
    title: str = template_field(min_length=1, max_length=128, description="Card title.")
    url: str = Field(min_length=1, max_length=2048, description="Where the card leads.")
    picurl: str | None = Field(default=None, description="Cover image URL.")
    desc: str | None = template_field(default=None, max_length=512, description="Card description.")


class MiniprogramAttachment(_Params):
    """A mini-program card."""

    msgtype: Literal["miniprogram"] = "miniprogram"
    title: str = template_field(min_length=1, max_length=64, description="Card title.")
    pic_media_id: str = Field(min_length=1, description="Uploaded cover image.")
    appid: str = Field(min_length=1, description="The mini-program's AppID.")
    page: str = Field(min_length=1, description="The page path, e.g. `pages/coupon.html`.")


class VideoAttachment(_Params):
    """An uploaded video."""

    msgtype: Literal["video"] = "video"
    media_id: str = Field(min_length=1, description="An uploaded video.")


class FileAttachment(_Params):
    """An uploaded file."""

    msgtype: Literal["file"] = "file"
    media_id: str = Field(min_length=1, description="An uploaded file.")


Attachment = Annotated[
    ImageAttachment | LinkAttachment | MiniprogramAttachment | VideoAttachment | FileAttachment,
    Field(discriminator="msgtype"),
]


def attachment_json(attachment: BaseModel) -> dict[str, Any]:
    """WeCom's shape of one attachment: `{"msgtype": t, t: {fields}}`."""
    fields = attachment.model_dump(exclude_none=True)
    msgtype = fields.pop("msgtype")
    return {"msgtype": msgtype, msgtype: fields}


class _Message(_Params):
    text: str | None = template_field(
        default=None, min_length=1, max_length=MAX_TEXT_LENGTH, description="The text part."
    )
    attachments: list[Attachment] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description=f"Up to {MAX_ATTACHMENTS} images, links, mini-programs, videos or files.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> _Message:
        if self.text is None and not self.attachments:
            raise ValueError("give text, attachments or both")
        return self

    def content(self) -> dict[str, Any]:
        """The `text` and `attachments` members of WeCom's request."""
        body: dict[str, Any] = {}
        if self.text is not None:
            body["text"] = {"content": self.text}
        if self.attachments:
            body["attachments"] = [attachment_json(item) for item in self.attachments]
        return body


class WelcomeParams(_Message):
    """`wecom.welcome`: the welcome message, sent with the `wecom.contact_added` WelcomeCode
    within its 20 s life, once."""


class MassMessageParams(_Message):
    """`wecom.mass_message`: a 1:1 mass-message task (客户群发) for the customer, which the
    sender confirms in WeCom; counted against the customer's allowance first."""

    sender: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Staff userid sending it; default: the customer's `wecom_follow_user`.",
    )
    chat_type: Literal["single"] = Field(default="single", description="Always `single`.")


class GroupMessageParams(_Message):
    """`wecom.group_message`: a mass-message task to the sender's customer groups."""

    sender: str = Field(min_length=1, max_length=64, description="Staff userid (group owner).")
    chat_ids: list[str] = Field(
        default_factory=list,
        max_length=2000,
        description="Groups to send to; empty: all the sender's groups.",
    )


class TagParams(_Params):
    """`wecom.tag`: add and/or remove corp tags on the customer (mark_tag)."""

    add_tag: list[str] = Field(default_factory=list, max_length=100, description="Tag ids.")
    remove_tag: list[str] = Field(default_factory=list, max_length=100, description="Tag ids.")
    userid: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Staff userid owning the contact; default: `wecom_follow_user`.",
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> TagParams:
        if not self.add_tag and not self.remove_tag:
            raise ValueError("give add_tag, remove_tag or both")
        if set(self.add_tag) & set(self.remove_tag):
            raise ValueError("a tag cannot be both added and removed")
        return self


class VisibleRange(_Params):
    """Who publishes a moment and which customers see it."""

    user_list: list[str] = Field(default_factory=list, description="Staff who publish it.")
    department_list: list[int] = Field(default_factory=list, description="Their departments.")
    tag_list: list[str] = Field(default_factory=list, description="Customer tags that see it.")

    def as_json(self) -> dict[str, Any]:
        """WeCom's `visible_range` member."""
        body: dict[str, Any] = {}
        if self.user_list or self.department_list:
            body["sender_list"] = {
                "user_list": self.user_list,
                "department_list": self.department_list,
            }
        if self.tag_list:
            body["external_contact_list"] = {"tag_list": self.tag_list}
        return body


class MomentParams(_Message):
    """`wecom.moment`: a moment (朋友圈) task that staff publish."""

    visible_range: VisibleRange | None = Field(
        default=None, description="Publishers and audience; default: every staff member."
    )


class TransferParams(_Params):
    """`wecom.transfer`: hand the customer to another staff member (at most 2 in 90 days)."""

    kind: Literal["on_job", "resigned"] = Field(
        description="`on_job` (在职继承) or `resigned` (离职继承)."
    )
    handover_userid: str = Field(min_length=1, max_length=64, description="Current staff.")
    takeover_userid: str = Field(min_length=1, max_length=64, description="New staff.")
    transfer_success_msg: str | None = template_field(
        default=None,
        min_length=1,
        max_length=200,
        description="What the customer is told (on_job only).",
    )

    @model_validator(mode="after")
    def _two_people(self) -> TransferParams:
        if self.handover_userid == self.takeover_userid:
            raise ValueError("handover_userid and takeover_userid must differ")
        if self.kind == "resigned" and self.transfer_success_msg is not None:
            raise ValueError("transfer_success_msg applies to on_job transfers only")
        return self
