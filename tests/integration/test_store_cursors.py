"""Forged cursors: a cursor carrying operators or wrong types is bad input, never a query."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from domain.errors import InvalidInputError
from store.database import Store


def forged(values: list[Any]) -> str:
    """A cursor as `encode_cursor` would shape it, with whatever values a client chose."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "values",
    [
        [{"$regex": ".*"}],
        [{"$gt": ""}],
        [["a", "b"]],
    ],
)
async def test_a_cursor_holding_an_operator_or_a_list_is_invalid_input(
    store: Store, values: list[Any]
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await store.journeys.list("acme", cursor=forged(values))

    assert [p.path for p in raised.value.problems] == ["cursor"]


@pytest.mark.parametrize(
    "values",
    [
        [{"$date": "2025-03-01T10:00:00Z"}, 7, "x"],
        [{"$date": "2025-03-01T10:00:00Z"}, "event", {"$ne": None}],
        ["yesterday", "event", "x"],
        [{"$date": "2025-03-01T10:00:00Z"}, "gossip", "x"],
    ],
)
async def test_a_timeline_cursor_of_the_wrong_shape_is_invalid_input(
    store: Store, values: list[Any]
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await store.timeline.for_customer("acme", "cus_1", cursor=forged(values))

    assert [p.path for p in raised.value.problems] == ["cursor"]
