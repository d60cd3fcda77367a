"""Types every feature shares: pagination and the expected-failure results mutations return.

Mutations answer a union (`Journey | ValidationFailed | NotFound | Forbidden`...) that clients
switch on by `__typename`; only unexpected failures become GraphQL errors. A result type carries
the name of the domain error it reports, without the `Error` suffix (`NotFoundError` →
`NotFound`, see `domain/errors.py`); its `of` builds it from that error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar, cast

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from api.auth import Permission
from domain.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from domain.validation import Problem as DomainProblem
from store.pagination import Page

T = TypeVar("T")
M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=type[Enum])

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

FIRST_DESCRIPTION = (
    f"How many items to return: 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}). "
    f"Outside that range the request fails with `extensions.code` `BAD_USER_INPUT`; it is "
    f"never silently clamped."
)
AFTER_DESCRIPTION = (
    "Return the items after this cursor: `pageInfo.endCursor` of the previous page, or any "
    "edge's `cursor`. Cursors are opaque; a malformed one fails with `BAD_USER_INPUT`."
)
First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
"""The `first` argument of every connection field."""
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
"""The `after` argument of every connection field."""

Counter = Callable[[], Awaitable[int | None]]


def page_limit(first: int | None) -> int:
    """`first`, checked to be 1..MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE).

    `InvalidInput` (`BAD_USER_INPUT`) outside the range: a client asking for 500 and silently
    getting 100 could take the page for the whole list.
    """
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInputError.single(
            "first", f"must be between 1 and {MAX_PAGE_SIZE}, got {first}"
        )
    return first


def described_field(description: str) -> Callable[[F], F]:
    """`@strawberry.field(description=...)`, keeping the resolver's type visible to mypy."""
    return cast("Callable[[F], F]", strawberry.field(description=description))


def described_field_of(description: str, graphql_type: object) -> Callable[[F], F]:
    """`described_field` for a resolver whose annotation is not its GraphQL type (one that may
    answer either a value or an awaitable of it)."""
    return cast(
        "Callable[[F], F]", strawberry.field(description=description, graphql_type=graphql_type)
    )


def described_mutation(description: str) -> Callable[[F], F]:
    """`@strawberry.mutation(description=...)`, keeping the resolver's type visible to mypy."""
    return cast("Callable[[F], F]", strawberry.mutation(description=description))


def described_values(**descriptions: str) -> Callable[[E], E]:
    """Describe every value of a `@strawberry.enum`, by member name; goes above `@strawberry.enum`.

    `strawberry.enum_value(value, description=...)` describes a value too, but mypy then types
    the member's `.value` as that wrapper instead of its literal, and resolvers pass those values
    on to typed store queries. A missing or unknown name fails at import.
    """

    def describe(enum: E) -> E:
        definition = getattr(enum, "__strawberry_definition__", None)
        if not isinstance(definition, StrawberryEnumDefinition):
            raise TypeError(f"{enum.__name__}: apply @strawberry.enum before described_values")
        values = {value.name: value for value in definition.values}
        if set(values) != set(descriptions):
            raise ValueError(
                f"{enum.__name__}: describe exactly {sorted(values)}, got {sorted(descriptions)}"
            )
        for name, description in descriptions.items():
            values[name].description = description
        return enum

    return describe


@strawberry.type(
    description="Where a page sits in its list (a Relay cursor connection). Pages go forward "
    "only: pass `endCursor` as `after` to fetch the next one while `hasNextPage`."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page: true when it was fetched with `after`."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null on an empty page."
    )


@strawberry.type(description="One item of a page and the cursor that resumes the list after it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to get the items after this one.")
    node: T = strawberry.field(description="The item.")


def _edges(root: Connection[T]) -> list[Edge[T]]:
    return [Edge(cursor=c, node=n) for c, n in zip(root.cursors(), root.nodes, strict=True)]


def _page_info(root: Connection[Any]) -> PageInfo:
    cursors = root.cursors()
    return PageInfo(
        has_next_page=root.page.next_cursor is not None,
        has_previous_page=root.after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


@strawberry.type(
    description="One page of a list, in the list's order (a Relay cursor connection). At most "
    f"{MAX_PAGE_SIZE} items a page."
)
class Connection(Generic[T]):
    """A page as GraphQL serves it. `nodes` is plain data; `edges` and `pageInfo` are built, and
    the page's cursors encoded, only when the query asks for them (most lists are read for their
    nodes, and a cursor costs an extended-JSON encoding)."""

    edges: list[Edge[T]] = strawberry.field(
        resolver=_edges, description="The page's items with their cursors."
    )
    nodes: list[T] = strawberry.field(
        description="The same items as `edges`, without cursors (convenient when not paging)."
    )
    page_info: PageInfo = strawberry.field(
        resolver=_page_info, description="Where the page sits in the list."
    )
    page: strawberry.Private[Page[Any]] = strawberry.field(default_factory=Page)
    after: strawberry.Private[str | None] = None
    counter: strawberry.Private[Counter | None] = None

    @described_field(
        "How many items the whole list holds (all pages), counted when asked for; null where "
        "counting would be expensive (the list field's description says when)."
    )
    async def total_count(self) -> int | None:
        return None if self.counter is None else await self.counter()

    def cursors(self) -> list[str]:
        """Each node's cursor, encoded on first use."""
        cursors = self.page.cursors
        if len(cursors) != len(self.nodes):
            # A page built without per-item cursors: only its end is known.
            return [self.page.next_cursor or self.after or ""] * len(self.nodes)
        return cursors

    @classmethod
    def of(
        cls,
        page: Page[M],
        convert: Callable[[M], T],
        *,
        after: str | None = None,
        counter: Counter | None = None,
    ) -> Connection[T]:
        """A connection over a store page, converting each item.

        `after` is the cursor the page was fetched with; `counter` counts the whole list.
        """
        return cls(
            nodes=[convert(item) for item in page.items], page=page, after=after, counter=counter
        )


@strawberry.type(
    description="One problem of a journey definition; `code` is stable, `message` names node "
    "and field."
)
class Problem:
    """One problem of a journey definition; `code` is stable, `message` names node and field."""

    code: str = strawberry.field(
        description="Stable machine-readable code to switch on, e.g. `dangling_edge`, "
        "`missing_edge`, `duration_out_of_bounds`, `no_entry`."
    )
    node_id: str | None = strawberry.field(
        description="The node the problem is on; null for journey-wide problems (settings, "
        "edges, the entry)."
    )
    message: str = strawberry.field(
        description="Human-readable explanation naming the node, edge and field; for people, "
        "not for parsing."
    )
    path: str | None = strawberry.field(
        description="Dotted path to the offending field: inside the node (`params.text`) or, for "
        "journey-wide problems, inside the definition (`settings.timezone`, "
        "`edges[3].target`); null when the whole node or journey is at fault."
    )

    @classmethod
    def of(cls, problem: DomainProblem) -> Problem:
        return cls(
            code=problem.code, node_id=problem.node_id, message=problem.message, path=problem.path
        )


@strawberry.type(description="One malformed input field; `path` is dotted (`identity.phone`).")
class FieldError:
    """One malformed input field; `path` is dotted (`identity.phone`)."""

    path: str = strawberry.field(
        description="Dotted path of the offending input field, relative to the mutation's "
        "arguments (`identity.phone`, `events[2].type`)."
    )
    message: str = strawberry.field(description="What is wrong with the field, for people.")

    @classmethod
    def of(cls, problem: FieldProblem) -> FieldError:
        return cls(path=problem.path, message=problem.message)


@strawberry.type(
    description="The journey definition has problems; every one is listed. Nothing was saved."
)
class ValidationFailed:
    """The journey definition has problems; every one is listed."""

    message: str = strawberry.field(
        description="Summary for people, e.g. `the journey has 3 problem(s)`."
    )
    problems: list[Problem] = strawberry.field(
        description="Every problem found, ordered journey-wide first, then by node; never empty."
    )

    @classmethod
    def of(cls, problems: list[DomainProblem]) -> ValidationFailed:
        return cls(
            message=f"the journey has {len(problems)} problem(s)",
            problems=[Problem.of(p) for p in problems],
        )


@strawberry.type(description="The input is malformed; one error per field. Nothing was changed.")
class InvalidInput:
    """The input is malformed; one error per field."""

    message: str = strawberry.field(description="Summary of what is wrong, for people.")
    errors: list[FieldError] = strawberry.field(
        description="One entry per offending input field; never empty."
    )

    @classmethod
    def of(cls, error: InvalidInputError, *, message: str | None = None) -> InvalidInput:
        """The result for `error`, one `FieldError` per problem; `message` replaces its summary."""
        errors = [FieldError.of(p) for p in error.problems]
        return cls(message=str(error) if message is None else message, errors=errors)

    @classmethod
    def single(cls, path: str, message: str, *, summary: str | None = None) -> InvalidInput:
        """One offending field; `summary` is the message when it differs from the field's."""
        error = FieldError(path=path, message=message)
        return cls(message=message if summary is None else summary, errors=[error])


@strawberry.type(
    description="No such thing in the caller's tenant (things of other tenants are never "
    "visible, so they are reported as not found too)."
)
class NotFound:
    """No such thing in the caller's tenant."""

    message: str = strawberry.field(
        description="Human-readable message, e.g. `journey 'j-1' not found`."
    )
    kind: str = strawberry.field(
        description="What was looked for: `journey`, `journey version`, `customer`, "
        "`enrollment`, `hook`, `operation`, `template`, `delivery`, `api key`, `dead letter`."
    )
    id: str = strawberry.field(description="The id that was looked for, as the client sent it.")

    @classmethod
    def of(cls, error: NotFoundError) -> NotFound:
        return cls(message=str(error), kind=error.kind, id=error.id)


@strawberry.type(
    description="The caller's API key role does not allow this operation; nothing was changed. "
    "Roles: `admin` may do everything; `designer` reads and edits journeys; `operator` reads, "
    "ingests events, manages enrollments and records consent; `viewer` only reads."
)
class Forbidden:
    """The caller's key does not allow this operation."""

    message: str = strawberry.field(
        description="Human-readable message naming the missing permission."
    )
    required_permission: str = strawberry.field(
        description="The permission the operation needs: `read`, `edit_journeys` (designer, "
        "admin), `ingest_events`, `manage_enrollments` or `manage_customers` (operator, admin), "
        "or "
        "`manage_channels` or `manage_api_keys` (admin only)."
    )

    @classmethod
    def of(cls, permission: Permission) -> Forbidden:
        return cls(
            message=f"this API key's role does not allow {permission.value}",
            required_permission=permission.value,
        )


@strawberry.type(
    description="The request contradicts the current state (stale revision, archived journey, "
    "ended enrollment); nothing was changed. Reload and decide again.",
)
class Conflict:
    """The request contradicts the current state (stale revision, archived journey, ended
    enrollment); reload and decide again."""

    message: str = strawberry.field(
        description="What the conflict is, e.g. which revision is current, for people."
    )

    @classmethod
    def of(cls, error: ConflictError) -> Conflict:
        return cls(message=str(error))
