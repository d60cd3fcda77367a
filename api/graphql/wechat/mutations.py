"""Connecting and disconnecting the tenant's WeChat apps (admins). Each answers a union."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import Conflict, Forbidden, InvalidInput, described_mutation
from api.graphql.context import Info
from api.graphql.wechat.types import WeChatApp, WeChatAppCleared, WeChatAppKind, kind_name
from api.services.wechat_settings import WeChatAppInput
from domain.errors import ConflictError, InvalidInputError

ConfigureWeChatAppResult = Annotated[
    WeChatApp | InvalidInput | Conflict | Forbidden,
    strawberry.union(
        "ConfigureWeChatAppResult",
        description="`WeChatApp` as stored; `InvalidInput` for malformed settings, a base URL "
        "not allowed, or secrets missing on first configuration; `Conflict` when the generated "
        "callback id collides (retry); `Forbidden` for any key but an admin's.",
    ),
]
ClearWeChatAppResult = Annotated[
    WeChatAppCleared | Forbidden,
    strawberry.union(
        "ClearWeChatAppResult",
        description="`WeChatAppCleared`; `Forbidden` for any key but an admin's.",
    ),
]


@strawberry.input(
    description="A WeChat app; omitted secrets keep their stored values (all three are required "
    "the first time, and again when the appid or base URL changes)."
)
class ConfigureWeChatAppInput:
    """A tenant's Official Account or mini-program."""

    kind: WeChatAppKind = strawberry.field(description="Official Account or mini-program.")
    appid: str = strawberry.field(description="The app's AppID (`wx…`).")
    appsecret: str | None = strawberry.field(
        default=None, description="The AppSecret; omitted: keep the stored one."
    )
    callback_token: str | None = strawberry.field(
        default=None, description="The message push Token; omitted: keep the stored one."
    )
    encoding_aes_key: str | None = strawberry.field(
        default=None,
        description="The EncodingAESKey: 43 characters of base64 (A-Z, a-z, 0-9, + and /); "
        "omitted: keep the stored one.",
    )
    base_url: str | None = strawberry.field(
        default=None,
        description="The WeChat API root, one the server allows (a trailing `/` is added); "
        "omitted: keep the stored one, `https://api.weixin.qq.com/cgi-bin/` the first time.",
    )


@strawberry.type
class WeChatMutations:
    @described_mutation("Connect (or change) one of the tenant's WeChat apps. Admin keys only.")
    async def configure_we_chat_app(
        self,
        info: Info,
        input: Annotated[
            ConfigureWeChatAppInput,
            strawberry.argument(description="The app's settings and (write-only) secrets."),
        ],
    ) -> ConfigureWeChatAppResult:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        kind = kind_name(input.kind)
        app = WeChatAppInput(
            kind=kind,
            appid=input.appid,
            appsecret=input.appsecret,
            callback_token=input.callback_token,
            encoding_aes_key=input.encoding_aes_key,
            base_url=input.base_url,
        )
        try:
            settings = await info.context.services.wechat_settings.configure(
                info.context.tenant_id, app
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except ConflictError as exc:
            return Conflict.of(exc)
        return WeChatApp.of(kind, settings)

    @described_mutation(
        "Disconnect one of the tenant's WeChat apps (its pushes are then refused). Admin keys only."
    )
    async def clear_we_chat_app(
        self,
        info: Info,
        kind: Annotated[WeChatAppKind, strawberry.argument(description="Which app.")],
    ) -> ClearWeChatAppResult:
        if not info.context.principal.can(Permission.MANAGE_CHANNELS):
            return Forbidden.of(Permission.MANAGE_CHANNELS)
        cleared = await info.context.services.wechat_settings.clear(
            info.context.tenant_id, kind_name(kind)
        )
        return WeChatAppCleared(kind=kind, cleared=cleared)
