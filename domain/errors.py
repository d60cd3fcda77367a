"""Domain errors: what callers can expect to go wrong, independent of any transport.

```
DomainError
 ├── NotFoundError           a thing with that id does not exist (in this tenant)
 ├── ConflictError           the write contradicts the stored state (stale revision, archived…)
 │    └── ReentryNotAllowedError  the journey's re-entry policy refuses the customer
 ├── InvalidInputError       the input is malformed; carries one `FieldProblem` per offending field
 ├── ValidationFailedError   a journey definition has problems; carries every `Problem`
 ├── QueryTimeoutError       a read ran out of its time budget (e.g. MongoDB's maxTimeMS)
 │
 │   the WeCom services' own (api/services/; api/services/wecom.py lists them):
 ├── WeComNotConfiguredError  this server or tenant has no WeCom connection
 ├── ProvisioningFailedError  WeCom refused or failed to make, change or remove a code
 ├── UnknownCallbackUrlError  no tenant's callback URL ends in this id
 ├── CallbackRejectedError    a callback does not check out (signature, encryption, addressee)
 ├── CallbackNotStoredError   a callback's events could not be stored; WeCom should resend
 │
 └── HistoryUnavailableError  Temporal has no history to show (api/services/history/)
```

Services raise only these.

Naming: exceptions end in `Error`. The GraphQL result type a resolver answers for one carries
the name without the suffix (`NotFoundError` → `NotFound`, see `api/graphql/common.py`); those
names are public API.

Adapters translate these at their boundary: GraphQL into union results, webhooks into HTTP
status codes, activities into non-retryable application errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pydantic import ValidationError

    from domain.validation import Problem


class FieldProblem(BaseModel):
    """One problem with one field: `path` is dotted (`identity.phone`, `nodes.2.timeout`)."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str


class DomainError(Exception):
    """Base of every error the domain and the store raise on purpose."""


class NotFoundError(DomainError):
    """No `kind` with this id exists in the tenant."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} not found")
        self.kind = kind
        self.id = id


class ConflictError(DomainError):
    """The write contradicts the stored state; re-read and try again (or give up)."""


class ReentryNotAllowedError(ConflictError):
    """The journey's re-entry policy does not let this customer enter again (yet)."""

    def __init__(self, journey_id: str, policy: str, enrollment_id: str, why: str) -> None:
        super().__init__(f"journey {journey_id!r} allows re-entry {policy!r}: {why}")
        self.policy = policy
        self.enrollment_id = enrollment_id


class QueryTimeoutError(DomainError):
    """A read took longer than it may (`what` it was) and was stopped; ask for less."""

    def __init__(self, what: str, limit_ms: int) -> None:
        super().__init__(
            f"{what} took longer than the {limit_ms} ms allowed and was stopped; "
            "ask for a shorter range or a narrower cut"
        )
        self.what = what
        self.limit_ms = limit_ms


class InvalidInputError(DomainError):
    """Malformed input; `problems` names every offending field at once."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(f"{p.path or '(root)'}: {p.message}" for p in self.problems)
        super().__init__(f"invalid input: {summary}")

    @classmethod
    def single(cls, path: str, message: str) -> InvalidInputError:
        """An error about one field."""
        return cls([FieldProblem(path=path, message=message)])

    @classmethod
    def from_validation_error(cls, error: ValidationError, prefix: str = "") -> InvalidInputError:
        """Translate a pydantic `ValidationError`, one problem per error, paths dotted."""
        problems = []
        for item in error.errors(include_url=False):
            parts = [str(part) for part in item["loc"]]
            if prefix:
                parts.insert(0, prefix)
            problems.append(FieldProblem(path=".".join(parts), message=item["msg"]))
        return cls(problems)


class ValidationFailedError(DomainError):
    """The journey definition has problems; `problems` names every one."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the journey definition")
        self.problems = problems


def error_kind(error: BaseException) -> str:
    """The kind of error recorded for people (failed attempts, dead letters): the class name,
    without the `Error` suffix for domain errors, so records read as before the suffix was added
    and match the GraphQL result type of the same error."""
    name = type(error).__name__
    return name.removesuffix("Error") if isinstance(error, DomainError) else name
