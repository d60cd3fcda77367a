"""GraphQL over HTTP at `/graphql`: authenticate first, then hand over to strawberry.

Every operation needs a valid API key; without one the answer is HTTP 401 before anything is
parsed or executed. The GraphiQL page itself (a browser GET asking for HTML, with no query) is
served without a key so people can open it and set the `Authorization` header there.
Subscriptions are not offered, so websocket connections are refused.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import Principal, authenticate
from api.graphql.context import Context
from api.graphql.schema import schema
from api.services.container import Services

PRINCIPAL_SCOPE_KEY = "omnijourney.principal"
WEBSOCKET_POLICY_VIOLATION = 1008


class _StrawberryApp(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(schema, graphql_ide="graphiql")
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


class GraphQLEndpoint:
    """The ASGI app mounted at `/graphql`."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._graphql = _StrawberryApp(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_POLICY_VIOLATION})
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
        scope[PRINCIPAL_SCOPE_KEY] = principal
        await self._graphql(scope, receive, send)
