"""What a metric is computed over: a bounded time range and a cut (who it is about)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MAX_RANGE = timedelta(days=366)
"""The longest range one metrics query may cover: a year (leap years too). Every metric is an
aggregation over the range, so the range bounds the work one request can ask of MongoDB."""


class Frozen(BaseModel):
    """The base of the metrics models: immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(Frozen):
    """The half-open range `[start, end)`, at most `MAX_RANGE` long."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("a time range must end after it starts")
        if self.end - self.start > MAX_RANGE:
            raise ValueError(
                f"a time range spans at most {MAX_RANGE.days} days; ask for several shorter ranges"
            )
        return self


class AudienceCut(Frozen):
    """Customers by first touch, optionally through one hook, or broken down by hook."""

    kind: Literal["audience"] = "audience"
    hook: str | None = None
    by_hook: bool = Field(default=False, description="One result per first-touch hook.")


class JourneyCut(Frozen):
    """Customers enrolled in a journey (and version), optionally first touched through a hook."""

    kind: Literal["journey"] = "journey"
    journey_id: str
    version: int | None = Field(default=None, ge=1)
    hook: str | None = None


class ChannelCut(Frozen):
    """Customers reached on each channel (optionally by one journey's deliveries)."""

    kind: Literal["channel"] = "channel"
    journey_id: str | None = None


Cut = AudienceCut | JourneyCut | ChannelCut
"""Who a metric is about; results are keyed by hook (`by_hook`), by channel, or by None."""
