"""The sources' public views, inputs and results; no secret is ever read back."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.graphql.common import described_values
from api.services.source_settings import SourceView
from domain.sources.settings import DOUYIN_KIND, ORDERS_KIND, XIAOHONGSHU_KIND, YOUZAN_KIND


@described_values(
    DOUYIN="Douyin (Ocean Engine) lead push (`lead.douyin`).",
    XIAOHONGSHU="Xiaohongshu lead push (`lead.xiaohongshu`).",
    ORDERS="The order webhook (`orders`).",
    YOUZAN="Youzan's message push (`orders.youzan`).",
)
@strawberry.enum(description="A source of leads or orders the tenant may connect.")
class SourceKind(Enum):
    DOUYIN = DOUYIN_KIND
    XIAOHONGSHU = XIAOHONGSHU_KIND
    ORDERS = ORDERS_KIND
    YOUZAN = YOUZAN_KIND


@strawberry.type(
    description="A connected source, without its secret: the URL path to give the platform "
    "(under the API's public base URL) and the non-secret settings."
)
class SourceSettings:
    """A connected source, without its secret."""

    kind: SourceKind = strawberry.field(description="Which source.")
    callback_id: str = strawberry.field(
        description="The unguessable id in the source's URL; kept when the source is set again."
    )
    path: str = strawberry.field(
        description="The path the platform pushes to, e.g. `/v1/sources/douyin/<callbackId>`."
    )
    client_key: str | None = strawberry.field(description="Douyin: the app's client key.")
    client_id: str | None = strawberry.field(description="Youzan: the app's `client_id`.")
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="Order webhook: until when the secret a rotation replaced is still "
        "accepted; null: no overlap."
    )

    @classmethod
    def of(cls, view: SourceView) -> SourceSettings:
        return cls(
            kind=SourceKind(view.kind),
            callback_id=view.callback_id,
            path=view.path,
            client_key=view.client_key,
            client_id=view.client_id,
            previous_secret_valid_until=view.previous_secret_valid_until,
        )


@strawberry.type(
    description="The order webhook's new secret. `secret` is shown only in this answer: give it "
    "to the shop now; it cannot be read again (rotate if it is lost)."
)
class OrderWebhookSecret:
    """The order webhook's new secret, shown only in this answer."""

    secret: str = strawberry.field(
        description="The HMAC-SHA256 key that signs `X-Omnijourney-Signature` (`ossec_…`)."
    )
    settings: SourceSettings = strawberry.field(description="The order webhook's settings.")


@strawberry.type(description="A source disconnected: its URL no longer answers.")
class SourceCleared:
    """A source disconnected."""

    kind: SourceKind = strawberry.field(description="Which source.")
    was_connected: bool = strawberry.field(description="Whether it was connected before.")


@strawberry.input(description="Connect Douyin lead pushes.")
class DouyinLeadSourceInput:
    client_secret: str = strawberry.field(
        description="The app's client secret: Douyin signs each push with it "
        "(`X-Douyin-Signature`). Write-only."
    )
    client_key: str | None = strawberry.field(
        default=None, description="The app's client key, for reference."
    )


@strawberry.input(description="Connect Xiaohongshu lead pushes.")
class XiaohongshuLeadSourceInput:
    token: str = strawberry.field(
        description="The landing page's push token: Xiaohongshu signs each push with it "
        "(`X-Red-Signature`). Write-only."
    )


@strawberry.input(description="Connect Youzan's message push.")
class YouzanSourceInput:
    client_id: str = strawberry.field(description="The Youzan app's `client_id`.")
    client_secret: str = strawberry.field(
        description="The app's `client_secret`, which signs each message (`sign`). Write-only."
    )
