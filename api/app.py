"""The ASGI application: GraphQL, event ingestion and health, over injected resources.

`create_app` does no I/O: the MongoDB client, the Temporal client and the connector registry are
made by the runtime (in its lifespan or main) and passed in, so tests and processes share one way
of wiring.

| route             | what |
|-------------------|------|
| `POST /v1/events` | ingest a batch of events (`api.rest.events`) |
| `GET/POST /v1/callbacks/wecom/{callback_id}` | WeCom URL verification and callbacks (`api.rest.wecom`) |
| `GET/POST /v1/callbacks/{oa,miniprogram}/{callback_id}` | WeChat message push (`api.rest.wechat`) |
| `GET/POST /v1/unsubscribe/{token}` | e-mail one-click unsubscribe (`api.rest.email`) |
| `POST /v1/webhooks/email/{tenant_id}/bounces` | signed e-mail bounce reports (`api.rest.email`) |
| `POST /v1/sources/{douyin,xiaohongshu,orders,youzan}/{callback_id}` | lead and order pushes (`api.rest.sources`) |
| `/graphql`        | the GraphQL API and GraphiQL (`api.graphql`) |
| `GET /livez`      | liveness: the process answers (no dependency checked) |
| `GET /readyz`     | readiness: MongoDB and Temporal reachable (`/healthz`: the same) |
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import Lifespan
from temporalio.client import Client

from api.graphql.http import GraphQLEndpoint
from api.rate_limit import AbuseLimits
from api.rest.email import BounceEndpoint, UnsubscribeEndpoint
from api.rest.events import EventsEndpoint, IngestLimits
from api.rest.health import HealthEndpoint, live
from api.rest.sms import SmsCallbackEndpoint
from api.rest.sources import SourceEndpoints
from api.rest.wechat import WeChatCallbackEndpoint
from api.rest.wecom import WeComCallbackEndpoint
from api.services.container import Services
from api.services.email_settings import HostPolicy
from api.services.ports import (
    CallbackCodec,
    ChannelCatalog,
    Clock,
    CodeProvisioner,
    GroupDirectory,
    WeChatPushCodec,
    utc_now,
)
from api.unavailable import EXCEPTION_HANDLERS
from domain.wechat import APP_KINDS
from store.database import Store


def create_app(
    store: Store,
    temporal: Client,
    channels: ChannelCatalog,
    *,
    limits: IngestLimits | None = None,
    clock: Clock = utc_now,
    lifespan: Lifespan[Starlette] | None = None,
    middleware: Sequence[Middleware] = (),
    debug: bool = False,
    wecom_codec: CallbackCodec | None = None,
    provisioner: CodeProvisioner | None = None,
    wecom_groups: GroupDirectory | None = None,
    temporal_ui_url: str | None = None,
    wecom_base_urls: Collection[str] = (),
    sms_base_urls: Collection[str] = (),
    abuse: AbuseLimits | None = None,
    wechat_codec: WeChatPushCodec | None = None,
    wechat_base_urls: Collection[str] = (),
    email_hosts: HostPolicy | None = None,
) -> Starlette:
    """The API over the given resources. `channels` is the connector registry (its catalog).

    `wecom_codec` opens WeCom callbacks and `provisioner` makes WeCom codes; without them the
    callback URL answers 503 and hook mutations answer `WeComNotConfiguredError`. `wecom_groups`
    (the WeCom connector) tells which join way a group member came through, which WeCom's group
    callbacks leave out. Background routing of callbacks: `app.state.services.drain()` at shutdown.
    `temporal_ui_url` (the Temporal Web UI's base URL) turns on links to workflow histories.
    `wecom_base_urls`: API roots `configureWeCom` accepts besides WeCom's own (a simulator's).
    `sms_base_urls`: API roots `configureSms` accepts besides the providers' own (a simulator's).
    `abuse`: per-key rate limit, subscriptions per websocket, key re-check interval
    (`api.rate_limit.AbuseLimits`; default: its defaults, which set no rate limit).
    `wechat_codec` opens WeChat message pushes (without it their URLs answer 503);
    `wechat_base_urls`: API roots `configureWeChatApp` accepts besides WeChat's own.
    `email_hosts`: the SMTP hosts `configureEmail` accepts (the e-mail channel's destination
    guard); None: any, left to the connector's check at send time.
    """
    services = Services.build(
        store,
        temporal,
        channels,
        clock,
        wecom_codec=wecom_codec,
        provisioner=provisioner,
        wecom_groups=wecom_groups,
        temporal_ui_url=temporal_ui_url,
        wecom_base_urls=wecom_base_urls,
        sms_base_urls=sms_base_urls,
        wechat_codec=wechat_codec,
        wechat_base_urls=wechat_base_urls,
        email_hosts=email_hosts,
    )
    abuse = abuse or AbuseLimits()
    limiter = abuse.limiter()  # one bucket per key across /graphql and /v1/events
    graphql = GraphQLEndpoint(services, abuse, limiter)
    readiness = HealthEndpoint(services).handle
    sources = SourceEndpoints(services.sources)
    routes = [
        Route(
            "/v1/events",
            EventsEndpoint(services, limits or IngestLimits(), limiter).handle,
            methods=["POST"],
        ),
        Route(
            "/v1/callbacks/wecom/{callback_id}",
            WeComCallbackEndpoint(services.wecom_callbacks).handle,
            methods=["GET", "POST"],
        ),
        *(
            Route(
                f"/v1/callbacks/{kind}/{{callback_id}}",
                WeChatCallbackEndpoint(services.wechat_callbacks, kind).handle,
                methods=["GET", "POST"],
            )
            for kind in APP_KINDS
        ),
        Route(
            "/v1/callbacks/sms/{provider}/{callback_id}",
            SmsCallbackEndpoint(services.sms_callbacks).handle,
            methods=["POST"],
        ),
        Route(
            "/v1/unsubscribe/{token}",
            UnsubscribeEndpoint(services.email_inbound).handle,
            methods=["GET", "POST"],
        ),
        Route(
            "/v1/webhooks/email/{tenant_id}/bounces",
            BounceEndpoint(services.email_inbound).handle,
            methods=["POST"],
        ),
        Route("/v1/sources/douyin/{callback_id}", sources.douyin, methods=["POST"]),
        Route("/v1/sources/xiaohongshu/{callback_id}", sources.xiaohongshu, methods=["POST"]),
        Route("/v1/sources/orders/{callback_id}", sources.orders, methods=["POST"]),
        Route("/v1/sources/youzan/{callback_id}", sources.youzan, methods=["POST"]),
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
        Route("/livez", live, methods=["GET"]),
        Route("/readyz", readiness, methods=["GET"]),
        Route("/healthz", readiness, methods=["GET"]),  # the older name of /readyz
    ]
    app = Starlette(
        debug=debug,
        routes=routes,
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers=dict(EXCEPTION_HANDLERS),  # outages answer 503 (`api.unavailable`)
    )
    app.state.services = services
    return app
