"""Events: what happened to a customer, as a client reports it and as it is stored.

A client sends an `EventIn`; its `id` is the client's idempotency id, so sending the same event
twice stores it once. The `identity` names the customer by one or more identities
(`{"phone": "138…", "unionid": "o…"}`); all of them are resolved to one customer and an event
naming two known customers merges them. Once stored (an `Event`), it carries the tenant, the
resolved customer and the time it was received.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from domain.customers import Identity, identities_from_mapping, normalize_identity
from domain.errors import InvalidInput

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
MAX_EVENT_TYPE_LENGTH = 64
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_IDENTITIES = 8


class EventIn(BaseModel):
    """An event as a client sends it (GraphQL `ingestEvents`, webhooks, channel callbacks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        min_length=1, max_length=128, description="The client's idempotency id for this event."
    )
    type: str = Field(
        min_length=1,
        max_length=MAX_EVENT_TYPE_LENGTH,
        pattern=EVENT_TYPE_PATTERN,
        description="Dotted lowercase, e.g. `order.paid`, `wecom.contact_added`.",
    )
    identity: dict[str, str] = Field(
        min_length=1,
        max_length=MAX_IDENTITIES,
        description="Identity kind → value; at least one. Values are normalized.",
    )
    timestamp: AwareDatetime = Field(
        description="When it happened; must carry a time zone. Kept in UTC, to the millisecond."
    )
    properties: dict[str, Any] = Field(
        default_factory=dict, description=f"At most {MAX_PROPERTIES_BYTES} bytes as JSON."
    )

    @field_validator("identity")
    @classmethod
    def _normalize_identities(cls, value: dict[str, str]) -> dict[str, str]:
        problems = []
        normalized: dict[str, str] = {}
        for kind, raw in value.items():
            try:
                normalized[kind] = normalize_identity(kind, raw)
            except ValueError as exc:
                problems.append(f"{kind}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return normalized

    @field_validator("timestamp")
    @classmethod
    def _to_utc_milliseconds(cls, value: AwareDatetime) -> AwareDatetime:
        # Stored to the millisecond (BSON dates); keep the model equal to what is stored.
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)

    @field_validator("properties")
    @classmethod
    def _bounded_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"properties must be plain JSON: {exc}") from exc
        size = len(encoded.encode("utf-8"))
        if size > MAX_PROPERTIES_BYTES:
            raise ValueError(f"properties are {size} bytes as JSON; at most {MAX_PROPERTIES_BYTES}")
        bad = _dollar_key(value)
        if bad is not None:
            raise ValueError(f"property names cannot start with '$' ({bad!r})")
        return value

    @property
    def identities(self) -> list[Identity]:
        """The identities, as `Identity` values in a stable order."""
        return identities_from_mapping(self.identity)

    @classmethod
    def parse(cls, data: Any, path: str = "") -> EventIn:
        """Validate client input, raising `InvalidInput` with one problem per bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput.from_validation_error(exc, prefix=path) from exc


def _dollar_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).startswith("$"):
                return str(key)
            found = _dollar_key(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _dollar_key(item)
            if found is not None:
                return found
    return None


class Event(BaseModel):
    """A stored event: the client's event, its tenant, its customer and when it arrived."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    tenant_id: str
    customer_id: str
    type: str
    identity: dict[str, str]
    timestamp: AwareDatetime
    properties: dict[str, Any] = Field(default_factory=dict)
    received_at: AwareDatetime

    @classmethod
    def from_input(
        cls, event: EventIn, *, tenant_id: str, customer_id: str, received_at: AwareDatetime
    ) -> Event:
        """The stored form of a client's event."""
        return cls(
            id=event.id,
            tenant_id=tenant_id,
            customer_id=customer_id,
            type=event.type,
            identity=dict(event.identity),
            timestamp=event.timestamp,
            properties=dict(event.properties),
            received_at=received_at,
        )
