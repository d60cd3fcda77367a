"""GraphQL over HTTP as the spec (graphql-over-http) puts it, on top of strawberry's ASGI view.

What this adds to strawberry's defaults:

| request                                             | answer |
|-----------------------------------------------------|--------|
| `Accept` naming `application/graphql-response+json` | that media type; request errors (parse, validation, variable coercion, limits) get **400** and no `data` entry |
| `Accept` missing, `*/*` or `application/json`       | `application/json`; request errors get 200 (no `data` entry either) |
| `Accept` naming neither                             | **406** |
| `POST` whose body is not `application/json`         | **415** |
| a body over `MAX_BODY_BYTES`                        | **413** |
| a mutation over `GET`                               | **405**, `Allow: POST` |
| a subscription over `GET`/`POST`                    | 400: subscriptions are served over WebSocket (`graphql-transport-ws`) |
| a non-string `operationName`                        | 400 |
| a failure outside resolvers (`INTERNAL_SERVER_ERROR`, no data) | 500 |
| any error `SERVICE_UNAVAILABLE` (MongoDB or Temporal out of reach) | 503, `Retry-After` |

Errors the view answers itself (4xx/5xx above) are GraphQL-shaped JSON, `{"errors": [{"message",
"extensions": {"code"}}]}`, never plain text.
"""

from __future__ import annotations

from typing import Any, Final

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.graphql.context import Context
from api.graphql.errors import INTERNAL_SERVER_ERROR
from api.unavailable import GRAPHQL_CODE, retry_headers

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"
MAX_BODY_BYTES: Final = 2 * 1024 * 1024

_ALLOWED_OPERATIONS: Final = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
_HTTP_CODES: Final = {
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer a request with this `Accept` header, or None (answer 406).

    The highest `q` wins; at equal `q` an exact mention beats a wildcard, and between two exact
    mentions `application/graphql-response+json` wins, while a bare `*/*` means `application/json`.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for candidate in (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON):
        quality, specificity = _match(accept, candidate)
        if quality <= 0:
            continue
        preferred = int((candidate == GRAPHQL_RESPONSE_JSON) == (specificity == 2))
        rank = (quality, specificity, preferred)
        if best is None or rank > best:
            best, chosen = rank, candidate
    return chosen


def _match(accept: str, media_type: str) -> tuple[float, int]:
    """The `q` of the most specific range of `accept` matching `media_type`, and how specific."""
    kind = media_type.split("/", 1)[0]
    found: tuple[int, float] | None = None
    for part in accept.split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        media_range = media_range.lower()
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if found is None or specificity > found[0]:
            found = (specificity, quality)
    return (0.0, 0) if found is None else (found[1], found[0])


def is_request_error(result: ExecutionResult) -> bool:
    """Whether the operation failed before executing (no data, errors about the request)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _is_internal(result: ExecutionResult) -> bool:
    return any(
        (error.extensions or {}).get("code") == INTERNAL_SERVER_ERROR
        for error in result.errors or ()
    )


def _is_unavailable(result: ExecutionResult) -> bool:
    return any(
        (error.extensions or {}).get("code") == GRAPHQL_CODE for error in result.errors or ()
    )


def error_response(status: int, message: str, media_type: str = APPLICATION_JSON) -> Response:
    """A GraphQL-shaped error body for an HTTP-level refusal."""
    error = {"message": message, "extensions": {"code": _HTTP_CODES.get(status, f"HTTP_{status}")}}
    return JSONResponse({"errors": [error]}, status_code=status, media_type=media_type)


class _BodyTooLarge(Exception):
    pass


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive`, failing once the request body passes `limit` bytes (declared or not)."""
    seen = 0

    async def receive_at_most() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge
        return message

    return receive_at_most


class SpecCompliantGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with the behaviour in the module docstring."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None:
            message = f"accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}"
            await error_response(406, message)(scope, receive, send)
            return
        request = Request(scope, _limited(receive, MAX_BODY_BYTES))
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = error_response(error.status_code, error.reason, media_type)
            if error.status_code == 405:
                response.headers["allow"] = "POST" if request.method == "GET" else "GET, POST"
        except _BodyTooLarge:
            message = f"the body may be at most {MAX_BODY_BYTES} bytes"
            response = error_response(413, message, media_type)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request | Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = sub_response.media_type or APPLICATION_JSON
        return response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            media_type, params = parse_content_type(request.content_type or "")
            charset = params.get("charset", "utf-8").lower()
            if media_type != APPLICATION_JSON or charset not in ("utf-8", "utf8"):
                raise HTTPException(415, f"send the request body as {APPLICATION_JSON}")
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(400, "`operationName` must be a string or null")
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        method = request_adapter.method
        try:
            result = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=_ALLOWED_OPERATIONS.get(method, frozenset()),
                operation_extensions=request_data.extensions,
            )
        except MissingQueryError as error:
            raise HTTPException(400, "the request has no GraphQL `query`") from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            if error.operation_type == OperationType.SUBSCRIPTION:
                message = "subscriptions are served over WebSocket (graphql-transport-ws)"
                raise HTTPException(400, message) from error
            raise HTTPException(405, error.as_http_error_reason(method)) from error
        if _is_unavailable(result):
            sub_response.status_code = 503
            sub_response.headers.update(retry_headers())
        elif is_request_error(result):
            if _is_internal(result):
                sub_response.status_code = 500
            elif sub_response.media_type == GRAPHQL_RESPONSE_JSON:
                sub_response.status_code = 400
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if is_request_error(result):
            # The request failed before execution began: the spec wants no `data` entry at all.
            response.pop("data", None)
        return response
