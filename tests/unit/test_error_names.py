"""The naming rule of domain/errors.py: exceptions end in `Error`; the GraphQL result type that
reports one carries the name without the suffix, so no name means both."""

from __future__ import annotations

import ast
from pathlib import Path

from domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ReentryNotAllowedError,
    ValidationFailedError,
    error_kind,
)
from ingestion.retries import describe_failure

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "domain",
    "store",
    "connectors",
    "activities",
    "workflows",
    "ingestion",
    "api",
    "runtime",
    "bench",
)
BUILTIN_EXCEPTIONS = {"Exception", "ValueError", "RuntimeError", "KeyError", "TypeError"}

PENDING: set[str] = set()
"""Exceptions exempt from the rule (none)."""


def _classes() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = str(path.relative_to(ROOT))
            found += [(where, n) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    return found


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def _exception_classes() -> dict[str, str]:
    """Every exception class the project defines, by name, with its file."""
    classes = _classes()
    exceptions: dict[str, str] = {}
    known = set(BUILTIN_EXCEPTIONS) | {"ApplicationError"}
    changed = True
    while changed:
        changed = False
        for where, node in classes:
            if node.name not in exceptions and _base_names(node) & known:
                exceptions[node.name] = where
                known.add(node.name)
                changed = True
    return exceptions


def _graphql_types() -> set[str]:
    """The Python names of every `@strawberry.type` class."""
    names = set()
    for _, node in _classes():
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Attribute) and target.attr == "type":
                names.add(node.name)
    return names


def test_every_exception_the_project_defines_ends_in_error() -> None:
    offenders = sorted(
        f"{where}: {name}"
        for name, where in _exception_classes().items()
        if not name.startswith("_") and not name.endswith("Error") and name not in PENDING
    )
    assert offenders == []


def test_no_graphql_type_shares_its_name_with_an_exception() -> None:
    assert sorted(_graphql_types() & set(_exception_classes()) - PENDING) == []


def test_error_kind_names_domain_errors_as_their_graphql_results() -> None:
    assert error_kind(NotFoundError("journey", "j1")) == "NotFound"
    assert error_kind(ConflictError("stale")) == "Conflict"
    assert error_kind(InvalidInputError.single("name", "blank")) == "InvalidInput"
    assert error_kind(ValidationFailedError([])) == "ValidationFailed"
    assert error_kind(ReentryNotAllowedError("j1", "never", "e1", "enrolled")) == (
        "ReentryNotAllowed"
    )
    assert error_kind(KeyError("x")) == "KeyError"


def test_a_failed_attempt_records_a_domain_error_by_its_kind() -> None:
    assert describe_failure(ConflictError("stale revision")) == "Conflict: stale revision"
