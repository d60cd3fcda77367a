"""Hook and WeCom settings types, and the failures their mutations may answer."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.channels import WeComCredentials
from domain.hooks import Hook as HookModel

_SET = "set"  # how `WeComCredentials.public()` shows a secret that has a value


@strawberry.enum(description="What scanning a hook's code does.")
class HookKind(Enum):
    """`CONTACT_WAY`: a channel code (渠道活码) adding a staff member; `JOIN_WAY`: a group live
    code (群活码) joining a customer group."""

    CONTACT_WAY = strawberry.enum_value(
        "contact_way",
        description="A channel code (渠道活码): scanning it adds one of `staffUsers` as a WeCom "
        "contact.",
    )
    JOIN_WAY = strawberry.enum_value(
        "join_way",
        description="A group live code (群活码): scanning it joins one of `chatIds` (up to five "
        "customer groups).",
    )


@strawberry.type(
    description="A WeCom code customers scan (a contact way or a join way); every arrival "
    "through it is attributed by its `state`."
)
class Hook:
    """A code customers scan; every arrival through it is attributed by its `state`."""

    id: strawberry.ID = strawberry.field(description="The hook id, unique in the tenant.")
    name: str = strawberry.field(description="Display name for operators, 1 to 80 characters.")
    kind: HookKind = strawberry.field(description="What scanning the code does.")
    state: str = strawberry.field(
        description="Echoed by WeCom in the add/join callback; use it in hook entry triggers."
    )
    config_id: str = strawberry.field(description="WeCom's id of the contact way / join way.")
    qr_code: str = strawberry.field(description="URL of the QR image.")
    staff_users: list[str] = strawberry.field(
        description="`CONTACT_WAY`: the WeCom staff user ids the code adds (1 to 100); empty for "
        "`JOIN_WAY`."
    )
    chat_ids: list[str] = strawberry.field(
        description="`JOIN_WAY`: the customer group chat ids the code joins (1 to 5); empty for "
        "`CONTACT_WAY`."
    )
    auto_create_room: bool = strawberry.field(
        description="`JOIN_WAY`: whether WeCom opens a new group when the last one is full."
    )
    room_base_name: str | None = strawberry.field(
        description="`JOIN_WAY` with `autoCreateRoom`: the name of auto-created groups, followed "
        "by their number; null when not set."
    )
    room_base_id: int | None = strawberry.field(
        description="`JOIN_WAY` with `autoCreateRoom`: the number the auto-created groups' "
        "numbering starts from (1 or more); null when not set."
    )
    remark: str | None = strawberry.field(
        description="Free note shown in WeCom's admin console, at most 30 characters; null when "
        "none."
    )
    archived: bool = strawberry.field(description="Deleted: removed from WeCom, kept on record.")
    created_at: datetime = strawberry.field(
        description="When the hook was created (ISO 8601 date-time with offset)."
    )
    updated_at: datetime = strawberry.field(
        description="When the hook was last changed or deleted (ISO 8601 date-time with offset)."
    )

    @classmethod
    def of(cls, model: HookModel) -> Hook:
        return cls(
            id=strawberry.ID(model.id),
            name=model.name,
            kind=HookKind(model.kind),
            state=model.state,
            config_id=model.config_id,
            qr_code=model.qr_code,
            staff_users=list(model.staff_users),
            chat_ids=list(model.chat_ids),
            auto_create_room=model.auto_create_room,
            room_base_name=model.room_base_name,
            room_base_id=model.room_base_id,
            remark=model.remark,
            archived=model.archived,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@strawberry.type(
    description="The tenant's WeCom connection; secrets are never returned, only whether they "
    "are set. Readable by admin keys only."
)
class WeComSettings:
    """The tenant's WeCom connection; secrets are never returned, only whether they are set."""

    corp_id: str = strawberry.field(description="The WeCom CorpID (`ww…`).")
    agent_id: str | None = strawberry.field(
        description="The self-built app's AgentId; null when not configured."
    )
    base_url: str = strawberry.field(
        description="The WeCom API root, ending in `/cgi-bin/` (`https://qyapi.weixin.qq.com/"
        "cgi-bin/` unless pointed elsewhere)."
    )
    mass_message_limit: str = strawberry.field(
        description="The corp's mass-message cap per customer, in China Standard Time: "
        "`per_month` (as many as the month has days), `per_week_7` (7 per ISO week) or "
        "`per_day_1` (1 per day)."
    )
    secret_set: bool = strawberry.field(
        description="Whether the app secret (used to obtain access tokens) is stored."
    )
    callback_token_set: bool = strawberry.field(
        description="Whether the callback Token (verifying callback signatures) is stored."
    )
    encoding_aes_key_set: bool = strawberry.field(
        description="Whether the callback EncodingAESKey (decrypting callbacks) is stored."
    )
    callback_path: str = strawberry.field(
        description="Append to the API's public origin to get the callback URL to give WeCom."
    )

    @classmethod
    def of(cls, credentials: WeComCredentials, callback_path: str) -> WeComSettings:
        public = credentials.public()
        return cls(
            corp_id=public["corp_id"],
            agent_id=public["agent_id"],
            base_url=public["base_url"],
            mass_message_limit=public["mass_message_limit"],
            secret_set=public["secret"] == _SET,
            callback_token_set=public["callback_token"] == _SET,
            encoding_aes_key_set=public["encoding_aes_key"] == _SET,
            callback_path=callback_path,
        )


@strawberry.type(
    description="WeCom cannot be used: not configured for this server or tenant, or it refused "
    "the request (`message` says which; it never contains secrets). Nothing was changed."
)
class WeComUnavailable:
    """WeCom cannot be used: not configured for this server or tenant, or it refused the
    request (`message` says which; it never contains secrets)."""

    message: str = strawberry.field(
        description="Why WeCom could not be used (not configured, or WeCom's error code and "
        "message), for people."
    )
