"""GraphQL over HTTP at `/graphql`: authenticate first, then hand over to strawberry.

Every operation needs a valid API key; without one the answer is HTTP 401 before anything is
parsed or executed. The GraphiQL page itself (a browser GET asking for HTML, with no query) is
served without a key so people can open it and set the `Authorization` header there.
Media types, status codes and HTTP-level refusals follow the GraphQL-over-HTTP spec
(`api.graphql.over_http`).
Subscriptions are served over websockets, `graphql-transport-ws` only, authenticated before any
runs (`api.graphql.live.websocket`), at most `max_subscriptions_per_connection` at a time on one
connection (a `subscribe` over it gets an `error` message; the connection stays open).
Over HTTP each key has a request rate limit (`api.rate_limit`): over it, HTTP 429 with
`Retry-After` and the code `RATE_LIMITED`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import Principal, authenticate
from api.graphql.context import Context
from api.graphql.live.websocket import WebSocketGate
from api.graphql.over_http import SpecCompliantGraphQL
from api.graphql.schema import schema
from api.rate_limit import AbuseLimits, RateLimiter, retry_after_header
from api.services.container import Services

PRINCIPAL_SCOPE_KEY = "omnijourney.principal"


class _StrawberryApp(SpecCompliantGraphQL):
    def __init__(self, services: Services, max_subscriptions_per_connection: int) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # counts every operation running on the connection (strawberry's own check)
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            # websockets authenticate with a bearer key, never cookies: any origin may connect
            allowed_origins=("*",),
        )
        self._services = services

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
        if not isinstance(principal, Principal):
            raise RuntimeError("GraphQL reached without an authenticated principal")
        return Context(principal=principal, services=self._services)


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


def _unauthenticated() -> Response:
    error = {
        "message": "send a valid API key as `Authorization: Bearer oj_...`",
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    return JSONResponse(
        {"errors": [error]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="omnijourney"'},
    )


def _rate_limited(wait: float) -> Response:
    retry = retry_after_header(wait)
    error = {
        "message": f"this API key's request rate limit is spent; retry in {retry} s",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": int(retry)},
    }
    return JSONResponse({"errors": [error]}, status_code=429, headers={"Retry-After": retry})


class GraphQLEndpoint:
    """The ASGI app mounted at `/graphql`."""

    def __init__(
        self,
        services: Services,
        abuse: AbuseLimits | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        abuse = abuse or AbuseLimits()
        self._services = services
        self._limiter = limiter
        self._graphql = _StrawberryApp(services, abuse.max_subscriptions_per_connection)
        self._websocket = WebSocketGate(
            services.store.tenants,
            self._graphql,
            PRINCIPAL_SCOPE_KEY,
            recheck_interval=abuse.key_recheck_interval,
            limiter=limiter,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        request = Request(scope, receive)
        if _wants_ide(request):
            ide = await self._graphql.render_graphql_ide(request)
            await ide(scope, receive, send)
            return
        principal = await authenticate(
            self._services.store.tenants, request.headers.get("authorization")
        )
        if principal is None:
            await _unauthenticated()(scope, receive, send)
            return
        wait = None if self._limiter is None else self._limiter.acquire(principal.key_id)
        if wait is not None:
            await _rate_limited(wait)(scope, receive, send)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        await self._graphql(scope, receive, send)
