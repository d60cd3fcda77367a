"""Unexpected errors never reach clients as they are.

Expected failures are union results; what still surfaces as a GraphQL error is translated here:

| raised while resolving | message        | `extensions.code`       |
|------------------------|----------------|-------------------------|
| `InvalidInputError`    | kept           | `BAD_USER_INPUT` (+ `problems`) |
| `NotFoundError`        | kept           | `NOT_FOUND`             |
| `ConflictError`        | kept           | `CONFLICT`              |
| `QueryTimeoutError`    | kept           | `QUERY_TIMEOUT` (MongoDB's maxTimeMS ran out) |
| an outage (`api.unavailable`) | replaced | `SERVICE_UNAVAILABLE` (+ `dependency`; HTTP 503) |
| anything else          | replaced       | `INTERNAL_SERVER_ERROR` (logged with its trace) |

Errors about the request itself carry no path and keep their message (they describe the client's
document, not our internals); they get a code by the phase that found them, unless they already
carry one (the limits in `api.graphql.limits` do):

| found while             | `extensions.code`           |
|-------------------------|-----------------------------|
| parsing                 | `GRAPHQL_PARSE_FAILED`      |
| validating              | `GRAPHQL_VALIDATION_FAILED` |
| coercing variables      | `BAD_USER_INPUT`            |

An exception escaping the pipeline itself (an extension, not a resolver) is answered as
`INTERNAL_SERVER_ERROR` too, never with its message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Final

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from api.unavailable import GRAPHQL_CODE, message
from domain.errors import ConflictError, InvalidInputError, NotFoundError, QueryTimeoutError
from ingestion.outages import unavailable_dependency

logger = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error; it has been logged."
INTERNAL_SERVER_ERROR: Final = "INTERNAL_SERVER_ERROR"
GRAPHQL_PARSE_FAILED: Final = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED: Final = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
QUERY_TIMEOUT: Final = "QUERY_TIMEOUT"

# Raised by strawberry for the HTTP view to answer with a 4xx; they must pass through unchanged.
_HTTP_LEVEL = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def public_error(error: GraphQLError, request_code: str | None = None) -> GraphQLError:
    """The form of `error` a client may see.

    An error without a path is about the request; it keeps its message and, given a
    `request_code`, gets it as `extensions.code` unless it already has a code.
    """
    original = error.original_error
    if error.path is None:
        if request_code is None or (error.extensions or {}).get("code"):
            return error
        return _with(error, error.message, {**(error.extensions or {}), "code": request_code})
    if original is None:
        return error
    if isinstance(original, InvalidInputError):
        problems = [{"path": p.path, "message": p.message} for p in original.problems]
        return _with(error, str(original), {"code": "BAD_USER_INPUT", "problems": problems})
    if isinstance(original, NotFoundError):
        return _with(error, str(original), {"code": "NOT_FOUND"})
    if isinstance(original, ConflictError):
        return _with(error, str(original), {"code": "CONFLICT"})
    if isinstance(original, QueryTimeoutError):
        return _with(error, str(original), {"code": QUERY_TIMEOUT, "maxTimeMS": original.limit_ms})
    dependency = unavailable_dependency(original)
    if dependency is not None:
        logger.warning("%s unavailable resolving %s", dependency, ".".join(map(str, error.path)))
        return _with(error, message(dependency), {"code": GRAPHQL_CODE, "dependency": dependency})
    logger.error("unexpected error resolving %s", ".".join(map(str, error.path)), exc_info=original)
    return _with(error, INTERNAL_MESSAGE, {"code": INTERNAL_SERVER_ERROR})


def internal_error() -> GraphQLError:
    """The error a client sees when something failed that it could not have caused."""
    return GraphQLError(INTERNAL_MESSAGE, extensions={"code": INTERNAL_SERVER_ERROR})


class MaskUnexpectedErrors(SchemaExtension):
    """Apply `public_error` to every error of a result, coding request errors by phase."""

    def __init__(self) -> None:
        super().__init__()
        self._request_code = BAD_USER_INPUT

    def on_validate(self) -> Iterator[None]:
        yield
        if self.execution_context.pre_execution_errors:
            self._request_code = GRAPHQL_VALIDATION_FAILED

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except (GraphQLError, *_HTTP_LEVEL):
            raise
        except Exception as exc:
            dependency = unavailable_dependency(exc)
            if dependency is not None:
                raise GraphQLError(
                    message(dependency),
                    extensions={"code": GRAPHQL_CODE, "dependency": dependency},
                ) from exc
            # Strawberry would answer with str(exc); it may name hosts, paths or data.
            logger.exception("unexpected error outside any resolver")
            raise internal_error() from exc
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            code = self._request_code
            result.errors = [
                public_error(
                    error,
                    GRAPHQL_PARSE_FAILED if isinstance(error, GraphQLSyntaxError) else code,
                )
                for error in errors
            ]
