"""A backing service's outage told apart from a bug, at the API's boundary.

An outage is answered **503** with `Retry-After`, never as an internal error, so clients and load
balancers retry instead of reporting a defect:

| raised (or caused by)                                              | dependency |
|--------------------------------------------------------------------|------------|
| pymongo `ConnectionFailure`: `ServerSelectionTimeoutError`, `AutoReconnect`, `NetworkTimeout`, … | `mongodb` |
| Temporal `RPCError` with status `UNAVAILABLE`                        | `temporal` |

REST bodies: `{"error": {"code": "service_unavailable", "dependency", "message"}}`; GraphQL:
an error with `extensions.code` `SERVICE_UNAVAILABLE` and `extensions.dependency`
(`api.graphql.errors`). How fast an outage is noticed is the MongoDB client's timeouts
(`MONGODB_SERVER_SELECTION_TIMEOUT` and friends, set where the client is made).
"""

from __future__ import annotations

import logging
from typing import Final

from pymongo.errors import ConnectionFailure
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.service import RPCError

from ingestion.outages import unavailable_dependency

logger = logging.getLogger(__name__)

REST_CODE: Final = "service_unavailable"
GRAPHQL_CODE: Final = "SERVICE_UNAVAILABLE"
RETRY_AFTER_SECONDS: Final = 5


def message(dependency: str) -> str:
    """What a client is told."""
    return f"{dependency} is unavailable; try again shortly"


def retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


async def handle(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: 503 for an outage (GraphQL-shaped under `/graphql`), else
    the exception goes on to the server's 500 handling."""
    dependency = unavailable_dependency(exc)
    if dependency is None:
        raise exc
    logger.warning("%s unavailable answering %s: %s", dependency, request.url.path, exc)
    if request.url.path.startswith("/graphql"):
        error = {
            "message": message(dependency),
            "extensions": {"code": GRAPHQL_CODE, "dependency": dependency},
        }
        return JSONResponse({"errors": [error]}, 503, headers=retry_headers())
    body = {"error": {"code": REST_CODE, "dependency": dependency, "message": message(dependency)}}
    return JSONResponse(body, 503, headers=retry_headers())


EXCEPTION_HANDLERS: Final = {ConnectionFailure: handle, RPCError: handle}
"""For `Starlette(exception_handlers=...)`."""
