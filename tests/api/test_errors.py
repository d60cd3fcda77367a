"""Unexpected resolver errors reach clients masked, with a code and no internals."""

from __future__ import annotations

from graphql import GraphQLError

from api.graphql.errors import INTERNAL_MESSAGE, public_error
from domain.errors import ConflictError, InvalidInputError, NotFoundError


def _raised(exc: Exception) -> GraphQLError:
    return GraphQLError(str(exc), path=["journey"], original_error=exc)


def test_an_unexpected_error_is_replaced_by_a_generic_message() -> None:
    masked = public_error(_raised(RuntimeError("mongodb://admin:hunter2@db/ exploded")))
    assert masked.message == INTERNAL_MESSAGE
    assert masked.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(masked.formatted)


def test_domain_errors_keep_their_message_and_get_a_code() -> None:
    invalid = public_error(_raised(InvalidInputError.single("cursor", "not a valid cursor")))
    assert invalid.extensions == {
        "code": "BAD_USER_INPUT",
        "problems": [{"path": "cursor", "message": "not a valid cursor"}],
    }
    assert public_error(_raised(NotFoundError("journey", "j1"))).extensions == {"code": "NOT_FOUND"}
    assert public_error(_raised(ConflictError("stale"))).extensions == {"code": "CONFLICT"}


def test_errors_about_the_request_document_are_left_as_they_are() -> None:
    syntax = GraphQLError("Syntax Error: Unexpected Name 'quer'.")
    assert public_error(syntax) is syntax
