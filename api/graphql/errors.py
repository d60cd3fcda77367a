"""Unexpected errors never reach clients as they are.

Expected failures are union results; what still surfaces as a GraphQL error is translated here:

| raised while resolving | message        | `extensions.code`       |
|------------------------|----------------|-------------------------|
| `InvalidInput`         | kept           | `BAD_USER_INPUT` (+ `problems`) |
| `NotFound`             | kept           | `NOT_FOUND`             |
| `Conflict`             | kept           | `CONFLICT`              |
| anything else          | replaced       | `INTERNAL_SERVER_ERROR` (logged with its trace) |

Errors about the request itself (syntax, validation, variable coercion) carry no path and keep
their message: they describe the client's document, not our internals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error; it has been logged."


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


def public_error(error: GraphQLError) -> GraphQLError:
    """The form of `error` a client may see."""
    original = error.original_error
    if original is None or error.path is None:
        return error
    if isinstance(original, InvalidInput):
        problems = [{"path": p.path, "message": p.message} for p in original.problems]
        return _with(error, str(original), {"code": "BAD_USER_INPUT", "problems": problems})
    if isinstance(original, NotFound):
        return _with(error, str(original), {"code": "NOT_FOUND"})
    if isinstance(original, Conflict):
        return _with(error, str(original), {"code": "CONFLICT"})
    logger.error("unexpected error resolving %s", ".".join(map(str, error.path)), exc_info=original)
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})


class MaskUnexpectedErrors(SchemaExtension):
    """Apply `public_error` to every error of a result."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [public_error(error) for error in errors]
