"""The public view of a tenant's WeChat app; secrets are never returned."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.services.wechat_settings import callback_path
from domain.wechat import WeChatAppSettings

_SET = "set"  # how `WeChatAppSettings.public()` shows a secret that has a value


@strawberry.enum(description="Which kind of WeChat app.")
class WeChatAppKind(Enum):
    """`OA`: an Official Account (the `oa` channel); `MINIPROGRAM`: a mini-program."""

    OA = strawberry.enum_value("oa", description="An Official Account (公众号), channel `oa`.")
    MINIPROGRAM = strawberry.enum_value(
        "miniprogram", description="A mini-program (小程序), channel `miniprogram`."
    )


@strawberry.type(
    description="One of the tenant's WeChat apps; secrets are never returned, only whether they "
    "are set. Readable by admin keys only."
)
class WeChatApp:
    """A tenant's WeChat app as admins see it."""

    kind: WeChatAppKind = strawberry.field(description="Official Account or mini-program.")
    appid: str = strawberry.field(description="The app's AppID (`wx…`).")
    base_url: str = strawberry.field(
        description="The WeChat API root, ending in `/cgi-bin/` (`https://api.weixin.qq.com/"
        "cgi-bin/` unless pointed elsewhere)."
    )
    appsecret_set: bool = strawberry.field(
        description="Whether the AppSecret (used to obtain access tokens) is stored."
    )
    callback_token_set: bool = strawberry.field(
        description="Whether the message push Token (verifying push signatures) is stored."
    )
    encoding_aes_key_set: bool = strawberry.field(
        description="Whether the EncodingAESKey (decrypting safe-mode pushes) is stored."
    )
    callback_path: str = strawberry.field(
        description="Append to the API's public origin to get the message push URL to give "
        "WeChat (safe mode)."
    )

    @classmethod
    def of(cls, kind: str, settings: WeChatAppSettings) -> WeChatApp:
        public = settings.public()
        return cls(
            kind=WeChatAppKind(kind),
            appid=public["appid"],
            base_url=public["base_url"],
            appsecret_set=public["appsecret"] == _SET,
            callback_token_set=public["callback_token"] == _SET,
            encoding_aes_key_set=public["encoding_aes_key"] == _SET,
            callback_path=callback_path(kind, settings.callback_id),
        )


def kind_name(kind: WeChatAppKind) -> str:
    """The domain's name of the kind (`oa`, `miniprogram`)."""
    return str(kind.value)


@strawberry.type(description="A WeChat app disconnected (or there was none).")
class WeChatAppCleared:
    """The outcome of `clearWeChatApp`."""

    kind: WeChatAppKind = strawberry.field(description="The kind of app asked about.")
    cleared: bool = strawberry.field(description="Whether an app of that kind was connected.")
