"""Domain errors: what callers can expect to go wrong, independent of any transport.

```
DomainError
 ├── NotFound       a thing with that id does not exist (in this tenant)
 ├── Conflict       the write contradicts the stored state (stale revision, archived journey…)
 ├── InvalidInput   the input is malformed; carries one `FieldProblem` per offending field
 └── QueryTimeout   a read ran out of its time budget (e.g. MongoDB's maxTimeMS) and was stopped
```

Adapters translate these at their boundary: GraphQL into union results, webhooks into HTTP
status codes, activities into non-retryable application errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pydantic import ValidationError


class FieldProblem(BaseModel):
    """One problem with one field: `path` is dotted (`identity.phone`, `nodes.2.timeout`)."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str


class DomainError(Exception):
    """Base of every error the domain and the store raise on purpose."""


class NotFound(DomainError):
    """No `kind` with this id exists in the tenant."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} not found")
        self.kind = kind
        self.id = id


class Conflict(DomainError):
    """The write contradicts the stored state; re-read and try again (or give up)."""


class QueryTimeout(DomainError):
    """A read took longer than it may (`what` it was) and was stopped; ask for less."""

    def __init__(self, what: str, limit_ms: int) -> None:
        super().__init__(
            f"{what} took longer than the {limit_ms} ms allowed and was stopped; "
            "ask for a shorter range or a narrower cut"
        )
        self.what = what
        self.limit_ms = limit_ms


class InvalidInput(DomainError):
    """Malformed input; `problems` names every offending field at once."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(f"{p.path or '(root)'}: {p.message}" for p in self.problems)
        super().__init__(f"invalid input: {summary}")

    @classmethod
    def single(cls, path: str, message: str) -> InvalidInput:
        """An error about one field."""
        return cls([FieldProblem(path=path, message=message)])

    @classmethod
    def from_validation_error(cls, error: ValidationError, prefix: str = "") -> InvalidInput:
        """Translate a pydantic `ValidationError`, one problem per error, paths dotted."""
        problems = []
        for item in error.errors(include_url=False):
            parts = [str(part) for part in item["loc"]]
            if prefix:
                parts.insert(0, prefix)
            problems.append(FieldProblem(path=".".join(parts), message=item["msg"]))
        return cls(problems)
