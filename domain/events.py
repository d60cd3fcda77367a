"""Events: what happened to a customer, as a client reports it and as it is stored.

A client sends an `EventIn`; its `id` is the client's idempotency id, so sending the same event
twice stores it once. The `identity` names the customer by one or more identities
(`{"phone": "138…", "unionid": "o…"}`); all of them are resolved to one customer and an event
naming two known customers merges them. Once stored (an `Event`), it carries the tenant, the
resolved customer and the time it was received.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from domain.customers import Identity, identities_from_mapping, normalize_identity
from domain.errors import InvalidInputError

ORDER_PAID = "order.paid"
"""The event a shop sends when an order is paid: the conversion goal of the templates and the
purchase metrics."""
ORDER_REFUNDED = "order.refunded"
"""The event a shop sends when an order is refunded, in part or in full: `properties.order_id`
names the paid order, `properties.amount` what was refunded (the paid order's unit), and
`properties.full` (true) says nothing of it is left; the purchase metrics subtract it."""

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
MAX_EVENT_TYPE_LENGTH = 64
MAX_PROPERTIES_BYTES = 32 * 1024
"""Properties as JSON, at most: far below BSON's 16 MiB document limit, whatever the encoding."""
MAX_PROPERTIES_DEPTH = 32
"""Nesting levels of objects and lists in `properties` (`{"a": 1}` is one): MongoDB refuses
documents nested past 100 levels, and a stored event (or a profile copying its properties) adds
levels of its own."""
INT64_RANGE = (-(2**63), 2**63 - 1)
"""The integers BSON stores; a property outside it could never be stored."""
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Events said to happen before this are refused at ingestion (a unit mix-up, or a zero date)."""
MAX_CLOCK_SKEW = timedelta(days=1)
"""Events said to happen more than this after they are received are refused at ingestion."""
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
        description="When it happened; must carry a time zone. Kept in UTC, to the millisecond. "
        "At ingestion, from `EARLIEST_EVENT_TIME` to `MAX_CLOCK_SKEW` after the server's now."
    )
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description=f"At most {MAX_PROPERTIES_BYTES} bytes as JSON, nested at most "
        f"{MAX_PROPERTIES_DEPTH} levels, integers within 64 bits, names neither starting with `$` "
        "nor holding NUL.",
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
    def _to_utc_milliseconds(cls, value: AwareDatetime, info: ValidationInfo) -> AwareDatetime:
        # At ingestion (`parse` with `now`), a time outside the sane window is refused.
        now = info.context.get("now") if isinstance(info.context, dict) else None
        if isinstance(now, datetime):
            if value < EARLIEST_EVENT_TIME:
                raise ValueError(f"the event time is before {EARLIEST_EVENT_TIME:%Y-%m-%d}")
            if value > now + MAX_CLOCK_SKEW:
                raise ValueError("the event time is more than a day in the future")
        # Stored to the millisecond (BSON dates); keep the model equal to what is stored.
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)

    @field_validator("properties")
    @classmethod
    def _bounded_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The shape first: it is walked without recursion, so a deep document cannot crash it.
        problem = _shape_problem(value)
        if problem is not None:
            raise ValueError(problem)
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"properties must be plain JSON: {exc}") from exc
        size = len(encoded.encode("utf-8"))
        if size > MAX_PROPERTIES_BYTES:
            raise ValueError(f"properties are {size} bytes as JSON; at most {MAX_PROPERTIES_BYTES}")
        return value

    @property
    def identities(self) -> list[Identity]:
        """The identities, as `Identity` values in a stable order."""
        return identities_from_mapping(self.identity)

    @classmethod
    def parse(cls, data: Any, path: str = "", *, now: datetime | None = None) -> EventIn:
        """Validate client input, raising `InvalidInputError` with one problem per bad field.

        With `now` (ingestion), the timestamp must also lie between `EARLIEST_EVENT_TIME` and
        `MAX_CLOCK_SKEW` after `now`."""
        try:
            return cls.model_validate(data, context={"now": now})
        except ValidationError as exc:
            raise InvalidInputError.from_validation_error(exc, prefix=path) from exc


def _shape_problem(properties: dict[str, Any]) -> str | None:
    """Why `properties` cannot be stored as they are, or None: nested too deep, an integer BSON
    cannot hold, a name MongoDB refuses (leading `$`, a NUL character)."""
    low, high = INT64_RANGE
    stack: list[tuple[Any, int, str]] = [(properties, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_PROPERTIES_DEPTH:
            return f"properties nest deeper than {MAX_PROPERTIES_DEPTH} levels (at {path!r})"
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            name = str(key)
            if isinstance(node, dict):
                if name.startswith("$"):
                    return f"property names cannot start with '$' ({name!r})"
                if "\x00" in name:
                    return f"property names cannot hold a NUL character ({name!r})"
            here = f"{path}.{name}" if path else name
            if isinstance(item, int) and not isinstance(item, bool) and not low <= item <= high:
                return f"{here!r} is outside the 64-bit integer range"
            if isinstance(item, dict | list):
                stack.append((item, depth + 1, here))
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
