"""Types every feature shares: pagination and the expected-failure results mutations return.

Mutations answer a union (`Journey | ValidationFailed | NotFound | Forbidden`...) that clients
switch on by `__typename`; only unexpected failures become GraphQL errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

import strawberry

from api.auth import Permission
from domain.errors import Conflict as ConflictError
from domain.errors import FieldProblem
from domain.errors import NotFound as NotFoundError
from domain.validation import Problem as DomainProblem
from store.pagination import Page

T = TypeVar("T")
M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def page_limit(first: int | None) -> int:
    """`first` clamped to 1..MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE)."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    return max(1, min(first, MAX_PAGE_SIZE))


def described_field(description: str) -> Callable[[F], F]:
    """`@strawberry.field(description=...)`, keeping the resolver's type visible to mypy."""
    return cast("Callable[[F], F]", strawberry.field(description=description))


def described_mutation(description: str) -> Callable[[F], F]:
    """`@strawberry.mutation(description=...)`, keeping the resolver's type visible to mypy."""
    return cast("Callable[[F], F]", strawberry.mutation(description=description))


@strawberry.type
class PageInfo:
    """Where a page ends: pass `endCursor` as `after` to fetch the next one."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Connection(Generic[T]):
    """One page of a list, oldest first."""

    nodes: list[T]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[M], convert: Callable[[M], T]) -> Connection[T]:
        """A connection over a store page, converting each item."""
        return cls(
            nodes=[convert(item) for item in page.items],
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None, end_cursor=page.next_cursor
            ),
        )


@strawberry.type
class Problem:
    """One problem of a journey definition; `code` is stable, `message` names node and field."""

    code: str
    node_id: str | None
    message: str
    path: str | None

    @classmethod
    def of(cls, problem: DomainProblem) -> Problem:
        return cls(
            code=problem.code, node_id=problem.node_id, message=problem.message, path=problem.path
        )


@strawberry.type
class FieldError:
    """One malformed input field; `path` is dotted (`identity.phone`)."""

    path: str
    message: str

    @classmethod
    def of(cls, problem: FieldProblem) -> FieldError:
        return cls(path=problem.path, message=problem.message)


@strawberry.type
class ValidationFailed:
    """The journey definition has problems; every one is listed."""

    message: str
    problems: list[Problem]

    @classmethod
    def of(cls, problems: list[DomainProblem]) -> ValidationFailed:
        return cls(
            message=f"the journey has {len(problems)} problem(s)",
            problems=[Problem.of(p) for p in problems],
        )


@strawberry.type
class InvalidInput:
    """The input is malformed; one error per field."""

    message: str
    errors: list[FieldError]


@strawberry.type
class NotFound:
    """No such thing in the caller's tenant."""

    message: str
    kind: str
    id: str

    @classmethod
    def of(cls, error: NotFoundError) -> NotFound:
        return cls(message=str(error), kind=error.kind, id=error.id)


@strawberry.type
class Forbidden:
    """The caller's key does not allow this operation."""

    message: str
    required_permission: str

    @classmethod
    def of(cls, permission: Permission) -> Forbidden:
        return cls(
            message=f"this API key's role does not allow {permission.value}",
            required_permission=permission.value,
        )


@strawberry.type(name="Conflict")
class ConflictResult:
    """The request contradicts the current state (stale revision, archived journey, ended
    enrollment); reload and decide again."""

    message: str

    @classmethod
    def of(cls, error: ConflictError) -> ConflictResult:
        return cls(message=str(error))
