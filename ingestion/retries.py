"""Retrying events whose routing failed: how often and how far apart (`RetryPolicy`), and what a
failed attempt records (`describe_failure`: never secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.service import RPCError

from domain.errors import DomainError, error_kind

MAX_ERROR_TEXT = 300
"""Characters of an error's text kept on a failed event."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often an event whose routing fails is tried, and how long apart."""

    max_attempts: int = 5
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)

    def backoff(self, attempts: int) -> timedelta | None:
        """The wait after `attempts` failed attempts (doubling from `first_delay`, at most
        `max_delay`), or None: out of attempts, park it."""
        if attempts >= self.max_attempts:
            return None
        wait: timedelta = self.first_delay * (2 ** max(attempts - 1, 0))
        return min(wait, self.max_delay)


def describe_failure(exc: BaseException) -> str:
    """What a failed attempt records: the error's kind, and its text only when the text is the
    workflow service's or ours (never arbitrary exception text, which may quote connection
    strings or credentials), bounded."""
    if isinstance(exc, RPCError):
        text = f"{error_kind(exc)} ({exc.status.name}): {exc.message}"
    elif isinstance(exc, DomainError):
        text = f"{error_kind(exc)}: {exc}"
    else:
        text = error_kind(exc)
    return text[:MAX_ERROR_TEXT]
