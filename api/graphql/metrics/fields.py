"""What the metrics types share: descriptions built from the definitions, and `Once`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from domain.metrics import definitions as d

T = TypeVar("T")

ENTERED = "Customers who entered (the cohort every lever of this object divides by): {cohort}"
"""Each cohort field's description, filled with the cohort's formula (`d.*_COHORT`)."""


def cohort_entered(cohort: d.Definition) -> str:
    """`ENTERED` for `cohort`."""
    return ENTERED.format(cohort=f"{cohort.formula}.")


def defined_field(definition: d.Definition, *more: str) -> Any:
    """A field described by a metric's (or a count's) definition, and `more` sentences."""
    return strawberry.field(description=" ".join([definition.description, *more]))


class Once(Generic[T]):
    """One aggregation shared by the rows of a breakdown, run at most once per response."""

    def __init__(self, load: Callable[[], Awaitable[T]]) -> None:
        self._load = load
        self._task: asyncio.Future[T] | None = None

    async def get(self) -> T:
        if self._task is None:
            self._task = asyncio.ensure_future(self._load())
        return await self._task
