"""Deliveries: one record per side effect a journey asks a channel to perform.

The `idempotency_key` (`delivery_key`: enrollment, run, node, visit) is unique per tenant, so however often an
activity is retried, a channel action is recorded — and, when it already succeeded, performed —
once. Status moves `pending → succeeded` or `pending → failed → … → succeeded`; `succeeded` is
final. `skipped` means the channel was never called, on purpose: the customer opted out of the
channel (`error` says so, starting with `SKIPPED_OPTED_OUT`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

DeliveryStatus = Literal["pending", "succeeded", "failed", "skipped"]

SKIPPED_OPTED_OUT = "consent_opted_out"
"""The error code of a send skipped because the customer opted out of its channel."""


def opted_out_reason(channel: str, source: str, at: datetime | None) -> str:
    """The recorded reason of a send skipped for an opt-out of `channel`."""
    when = f" at {at.isoformat()}" if at is not None else ""
    return (
        f"{SKIPPED_OPTED_OUT}: the customer opted out of {channel} (source {source}{when}); "
        "nothing was sent"
    )


def delivery_key(enrollment_id: str, node_id: str, visit: int, run: str | None = None) -> str:
    """The idempotency key of the `visit`-th visit of action `node_id` in an enrollment's run:
    `{enrollment}:{run}:{node}:{visit}` (`{enrollment}:{node}:{visit}` for the first run of an
    enrollment recorded before runs had ids). The engine names every `RunAction` with it."""
    run_prefix = "" if run is None else f"{run}:"
    return f"{enrollment_id}:{run_prefix}{node_id}:{visit}"


class Delivery(BaseModel):
    """One channel action for one enrollment step, and how it went."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    idempotency_key: str = Field(min_length=1, max_length=512)
    enrollment_id: str
    customer_id: str
    journey_id: str
    node_id: str
    channel: str
    action: str
    status: DeliveryStatus = "pending"
    attempts: int = Field(default=0, ge=0, description="Finished attempts (failed or not).")
    external_id: str | None = Field(
        default=None, description="The channel's id for what it did (message id, task id)."
    )
    error: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime
    updated_at: AwareDatetime
