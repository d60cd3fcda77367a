"""What the API needs from parts it may not import (the connectors live outside its layer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


class ChannelCatalog(Protocol):
    """The channels and actions journeys may use (`connectors.ConnectorRegistry` satisfies it)."""

    def catalog(self) -> Mapping[str, Mapping[str, type[BaseModel]]]:
        """channel → action → params model, for journey validation."""
        ...

    def describe(self) -> list[dict[str, Any]]:
        """One dict per action: `channel`, `action`, `description`, `params_schema`."""
        ...
