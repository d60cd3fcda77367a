"""What validation reports: `Problem`, and the helpers that word and place them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

ActionCatalog = Mapping[str, Mapping[str, type[BaseModel]]]
"""channel → action → the pydantic model its `params` must satisfy."""


class Problem(BaseModel):
    """One thing wrong with a journey.

    `code` is stable (clients switch on it); `message` is for people and names the node, edge
    and field; `path` points inside the node (`params.text`) or, for journey-wide problems, inside
    the definition (`settings.timezone`, `edges[3].target`).
    """

    model_config = ConfigDict(frozen=True)

    code: str
    node_id: str | None = None
    message: str
    path: str | None = None


class Report(Protocol):
    """Where a check appends a problem (`_Checker.add`)."""

    def __call__(
        self, code: str, node_id: str | None, message: str, path: str | None = None
    ) -> None: ...


def human(delta: timedelta) -> str:
    """`2 days 3:00:00`-style text that also reads well for negative durations."""
    if delta < timedelta(0):
        return f"-{human(-delta)}"
    days, seconds = delta.days, delta.seconds
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if seconds or delta.microseconds or not parts:
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        clock = f"{hours}h{minutes:02d}m{secs:02d}s"
        if delta.microseconds:
            clock += f"+{delta.microseconds}us"
        parts.append(clock)
    return " ".join(parts)


def format_loc(loc: Iterable[int | str]) -> str:
    """`('nodes', 3, 'params', 'text')` → `nodes[3].params.text`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def field_problem(raw: Any, loc: tuple[int | str, ...], msg: str) -> Problem:
    node_id: str | None = None
    node_path = loc
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = raw.get("nodes") if isinstance(raw, Mapping) else None
        node = nodes[loc[1]] if isinstance(nodes, list) and loc[1] < len(nodes) else None
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            node_id = node["id"]
            node_path = loc[2:]
            # The discriminated union adds the node kind to the location; the path is the field.
            if node_path and node_path[0] == node.get("kind"):
                node_path = node_path[1:]
    path = format_loc(node_path) or None
    where = f"node '{node_id}'" if node_id is not None else "the journey"
    field = f", {path}" if path else ""
    return Problem(
        code="invalid_field", node_id=node_id, message=f"{where}{field}: {msg}", path=path
    )
