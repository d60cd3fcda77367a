"""The connectors a process knows, by channel name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from connectors.base import Connector
from connectors.errors import UnknownChannelError


class ConnectorRegistry:
    """Connectors by channel name; the source of the action catalog journeys are checked against."""

    def __init__(self, connectors: Iterable[Connector] = ()) -> None:
        self._connectors: dict[str, Connector] = {}
        for connector in connectors:
            self.register(connector)

    def register(self, connector: Connector) -> None:
        """Add `connector`; a second connector for the same channel is a programming error."""
        if connector.name in self._connectors:
            raise ValueError(f"a connector for channel {connector.name!r} is already registered")
        self._connectors[connector.name] = connector

    def get(self, name: str) -> Connector:
        """The connector of channel `name`, or `UnknownChannelError` listing the known channels."""
        try:
            return self._connectors[name]
        except KeyError:
            raise UnknownChannelError(name, self._connectors) from None

    def __contains__(self, name: object) -> bool:
        return name in self._connectors

    def names(self) -> list[str]:
        """Registered channel names, sorted."""
        return sorted(self._connectors)

    def catalog(self) -> dict[str, dict[str, type[BaseModel]]]:
        """channel → action → params model: what journey validation checks action nodes against."""
        return {
            name: {action: spec.params_model for action, spec in connector.actions.items()}
            for name, connector in sorted(self._connectors.items())
        }

    def describe(self) -> list[dict[str, Any]]:
        """One plain dict per action, for the API: channel, action, description, params_schema.

        Plain data on purpose: the API layer must not import connector types.
        """
        return [
            {
                "channel": name,
                "action": action,
                "description": spec.description,
                "params_schema": spec.params_model.model_json_schema(),
            }
            for name, connector in sorted(self._connectors.items())
            for action, spec in sorted(connector.actions.items())
        ]
