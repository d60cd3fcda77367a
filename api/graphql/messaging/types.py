"""Messaging policy types and inputs."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import messaging as m


@strawberry.enum(description="The calendar period a cap counts over, in the policy's time zone.")
class CapPeriod(Enum):
    DAY = strawberry.enum_value("day", description="A calendar day.")
    WEEK = strawberry.enum_value("week", description="A week from Monday.")
    MONTH = strawberry.enum_value("month", description="A calendar month.")


@strawberry.type(description="At most `limit` sends per customer per `period` on `channels`.")
class FrequencyCap:
    id: str = strawberry.field(description="The cap's id, named in the reason of what it holds.")
    channels: list[str] = strawberry.field(description="The channels it counts; empty: all.")
    limit: int = strawberry.field(description="Sends per customer per period.")
    period: CapPeriod = strawberry.field(description="The period.")


@strawberry.type(description="Local hours in which no action that respects quiet hours runs.")
class TenantQuietHours:
    start: int = strawberry.field(description="Hour quiet time starts, 0 to 23.")
    end: int = strawberry.field(description="Hour quiet time ends, 0 to 23.")


@strawberry.type(
    description="The tenant's frequency caps and quiet hours, applied to every journey's sends "
    "beside each journey's own quiet hours. A capped action skips (its `failed` edge) or waits, "
    "as its `whenCapped` says; an action in the tenant's quiet hours waits for them to end."
)
class MessagingPolicy:
    timezone: str = strawberry.field(description="IANA time zone of the periods and hours.")
    quiet_hours: TenantQuietHours | None = strawberry.field(description="None: no quiet hours.")
    caps: list[FrequencyCap] = strawberry.field(description="The caps.")

    @classmethod
    def of(cls, policy: m.MessagingPolicy) -> MessagingPolicy:
        quiet = policy.quiet_hours
        return cls(
            timezone=policy.timezone,
            quiet_hours=None
            if quiet is None
            else TenantQuietHours(start=quiet.start, end=quiet.end),
            caps=[
                FrequencyCap(
                    id=cap.id,
                    channels=list(cap.channels),
                    limit=cap.limit,
                    period=CapPeriod(cap.period),
                )
                for cap in policy.caps
            ],
        )


@strawberry.input(description="One frequency cap.")
class FrequencyCapInput:
    id: str = strawberry.field(description="Letters, digits and `_ . : -`, at most 64.")
    channels: list[str] = strawberry.field(
        default_factory=list, description="Channels it counts; empty: all."
    )
    limit: int = strawberry.field(description="Sends per customer per period, 1 to 1000.")
    period: CapPeriod = strawberry.field(description="The period.")


@strawberry.input(description="Quiet hours (may wrap past midnight).")
class TenantQuietHoursInput:
    start: int = strawberry.field(description="0 to 23.")
    end: int = strawberry.field(description="0 to 23.")


@strawberry.input(description="The whole policy; it replaces the previous one.")
class MessagingPolicyInput:
    timezone: str = strawberry.field(
        default="Asia/Shanghai", description="IANA time zone of the periods and hours."
    )
    quiet_hours: TenantQuietHoursInput | None = strawberry.field(
        default=None, description="None: no tenant quiet hours."
    )
    caps: list[FrequencyCapInput] = strawberry.field(
        default_factory=list, description="At most 20, distinct ids."
    )
