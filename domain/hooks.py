"""Hooks: the channel codes (渠道活码) and group live codes (群活码) that bring customers in.

A hook is a WeCom code the tenant provisions: a *contact way* (scanning it adds one of the staff
members as a contact) or a *join way* (scanning it joins one of up to five customer groups,
creating a new one when `auto_create_room` is on and they are full). WeCom echoes the code's
`state` (at most 30 characters) in the add/join callback, which is how an arrival is attributed
to its hook; the state is derived from the hook id, so it is unique per tenant and never edited.
Deleting a hook removes the code from WeCom but keeps the record (`archived`), so customers it
brought in stay attributed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

HookKind = Literal["contact_way", "join_way"]

MAX_STATE_LENGTH = 30
MAX_CHATS_PER_JOIN_WAY = 5
MAX_STAFF_PER_CONTACT_WAY = 100
MAX_ROOM_BASE_NAME_LENGTH = 40
STATE_PREFIX = "h_"


def hook_state(hook_id: str) -> str:
    """The `state` of a hook: `h_` and the id's unique part, cut to WeCom's 30 characters."""
    unique = hook_id.split("_", 1)[-1]
    return (STATE_PREFIX + unique)[:MAX_STATE_LENGTH]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HookSpec(_Model):
    """What a designer asks for; checked before anything is provisioned."""

    name: str = Field(min_length=1, max_length=80)
    kind: HookKind
    staff_users: list[str] = Field(
        default_factory=list, description="contact_way: the staff user ids the code adds."
    )
    chat_ids: list[str] = Field(
        default_factory=list, description="join_way: the customer groups the code joins."
    )
    auto_create_room: bool = Field(
        default=True, description="join_way: open a new group when the last one is full."
    )
    room_base_name: str | None = Field(default=None, max_length=MAX_ROOM_BASE_NAME_LENGTH)
    room_base_id: int | None = Field(default=None, ge=1)
    remark: str | None = Field(default=None, max_length=30)

    @model_validator(mode="after")
    def _targets_match_kind(self) -> HookSpec:
        if any(not user.strip() for user in self.staff_users) or any(
            not chat.strip() for chat in self.chat_ids
        ):
            raise ValueError("staff user ids and chat ids cannot be blank")
        if self.kind == "contact_way":
            if not 1 <= len(self.staff_users) <= MAX_STAFF_PER_CONTACT_WAY:
                raise ValueError(
                    f"a contact_way needs 1 to {MAX_STAFF_PER_CONTACT_WAY} staff users"
                )
            if self.chat_ids:
                raise ValueError("a contact_way takes staff_users, not chat_ids")
        else:
            if not 1 <= len(self.chat_ids) <= MAX_CHATS_PER_JOIN_WAY:
                raise ValueError(f"a join_way needs 1 to {MAX_CHATS_PER_JOIN_WAY} chat ids")
            if self.staff_users:
                raise ValueError("a join_way takes chat_ids, not staff_users")
        return self


class Hook(_Model):
    """A provisioned code, as stored."""

    id: str
    tenant_id: str
    name: str = Field(min_length=1, max_length=80)
    kind: HookKind
    state: str = Field(min_length=1, max_length=MAX_STATE_LENGTH)
    config_id: str = Field(description="WeCom's id of the contact way / join way.")
    qr_code: str = Field(description="The URL of the code's QR image.")
    staff_users: list[str] = Field(default_factory=list)
    chat_ids: list[str] = Field(default_factory=list)
    auto_create_room: bool = False
    room_base_name: str | None = None
    room_base_id: int | None = None
    remark: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    archived: bool = False
