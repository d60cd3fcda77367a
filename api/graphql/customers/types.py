"""Customer types: the unified profile, its identities and its timeline.

The profile is one person across channels: every identity a channel knows them by, tags,
attributes, per-channel consent (status, source, time) and the hook that first brought them in.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import (
    After,
    Connection,
    First,
    described_field,
    described_field_of,
    described_values,
    page_limit,
)
from api.graphql.context import Info
from api.graphql.enrollments.steps import Delivery, Transition
from api.graphql.enrollments.types import Enrollment, EnrollmentStatus
from api.graphql.events.types import Event
from domain import customers as kinds
from domain.customers import ChannelConsent as ChannelConsentModel
from domain.customers import Customer as CustomerModel
from domain.enrollments import EnrollmentStatus as StatusValue
from store.timeline import TimelineEntry as TimelineEntryModel
from store.timeline import TimelineKind as TimelineKindValue

IDENTITY_CHANNELS: dict[str, str] = {
    kinds.EXTERNAL_USERID: "wecom",
    kinds.UNIONID: "wechat",
    kinds.OPENID: "wechat",
    kinds.WECHAT_OPENID: "oa",
    kinds.MINIPROGRAM_OPENID: "miniprogram",
    kinds.PHONE: "sms",
    kinds.EMAIL: "email",
    kinds.EXTERNAL_ID: "crm",
    kinds.DOUYIN_OPENID: "douyin",
    kinds.TAOBAO_NICK: "taobao",
}


@strawberry.type(description="One way a channel knows the customer.")
class Identity:
    kind: str = strawberry.field(
        description="`wecom_external_userid`, `unionid`, `openid`, `wechat_openid`, "
        "`miniprogram_openid`, `phone`, `email`, `external_id`, `douyin_openid`, `taobao_nick`, or another lowercase kind."
    )
    value: str = strawberry.field(description="Normalized (phones: digits; e-mails: lowercase).")
    channel: str | None = strawberry.field(
        description="The channel family the kind belongs to (`wecom`, `wechat`, `oa`, "
        "`miniprogram`, `sms`, `email`, `crm`, `douyin`, `taobao`); null for kinds the platform does not know."
    )

    @classmethod
    def of(cls, kind: str, value: str) -> Identity:
        return cls(kind=kind, value=value, channel=IDENTITY_CHANNELS.get(kind))


@described_values(
    OPTED_IN="They agreed to be reached on the channel.",
    OPTED_OUT="They refused or withdrew: journeys skip sends to them on the channel.",
)
@strawberry.enum(description="Whether the customer agreed to be reached on a channel.")
class ConsentStatus(Enum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


@strawberry.type(
    description="The customer's consent on one channel: the status, what recorded it and when. "
    "A send to a channel the customer opted out of is skipped (the delivery's status is "
    "`skipped`, its error `consent_opted_out: ...`) and the action takes its `failed` edge."
)
class ChannelConsent:
    channel: str = strawberry.field(
        description="The channel name (`sms`, `email`, `oa`, `miniprogram`, `wecom`...), as "
        "action nodes name it."
    )
    granted: bool = strawberry.field(description="Whether they agreed (false: they refused).")
    status: ConsentStatus = strawberry.field(description="Opted in or out.")
    source: str = strawberry.field(
        description="What recorded it: `api`, `sms_reply`, `email_unsubscribe`, `oa_unfollow`, "
        "`import`, another lowercase name; `unknown` for consent recorded before sources were."
    )
    at: datetime | None = strawberry.field(
        description="When it was recorded; null for consent recorded before times were."
    )

    @classmethod
    def of(cls, channel: str, model: ChannelConsentModel) -> ChannelConsent:
        return cls(
            channel=channel,
            granted=model.granted,
            status=ConsentStatus(model.status),
            source=model.source,
            at=model.at,
        )


@described_values(
    EVENT="An event the customer did (ingested or from a channel callback).",
    DELIVERY="A message a journey sent them on a channel, with its outcome.",
    TRANSITION="A step of one of their enrollments from one node to the next.",
)
@strawberry.enum(
    description="What a timeline entry is: an event the customer did, a channel delivery to "
    "them, or a step of one of their journeys."
)
class TimelineKind(Enum):
    EVENT = "event"
    DELIVERY = "delivery"
    TRANSITION = "transition"


@strawberry.type(
    description="One line of a customer's history; exactly one of `event`, `delivery`, "
    "`transition` is set: the one `kind` names."
)
class TimelineEntry:
    kind: TimelineKind = strawberry.field(description="What the entry is.")
    at: datetime = strawberry.field(
        description="Its place in time: an event's `timestamp`, a delivery's `createdAt`, a "
        "transition's `at`."
    )
    summary: str = strawberry.field(description="One line for people.")
    event: Event | None = strawberry.field(description="Set for `EVENT` entries.")
    delivery: Delivery | None = strawberry.field(description="Set for `DELIVERY` entries.")
    transition: Transition | None = strawberry.field(description="Set for `TRANSITION` entries.")

    @classmethod
    def of(cls, model: TimelineEntryModel) -> TimelineEntry:
        return cls(
            kind=TimelineKind(model.kind),
            at=model.at,
            summary=_summary(model),
            event=None if model.event is None else Event.of(model.event),
            delivery=None if model.delivery is None else Delivery.of(model.delivery),
            transition=None if model.transition is None else Transition.of(model.transition),
        )


def _summary(model: TimelineEntryModel) -> str:
    if model.event is not None:
        return f"event {model.event.type}"
    if model.delivery is not None:
        d = model.delivery
        tries = f", {d.attempts} attempt{'s' if d.attempts != 1 else ''}" if d.attempts else ""
        return f"{d.channel}.{d.action} at node {d.node_id}: {d.status}{tries}"
    t = model.transition
    assert t is not None  # exactly one part is set
    step = f"{t.from_node or 'start'} → {t.to_node or 'end'} ({t.label})"
    reason = f": {t.reason}" if t.reason else ""
    return f"journey {t.journey_id} v{t.version}: {step}{reason}"


@strawberry.type(
    description="One person across channels, the unified profile: identities, tags, attributes, "
    "consent, first-touch hook; with their timeline and enrollments."
)
class Customer:
    id: strawberry.ID = strawberry.field(description="The customer id (`cus_...`).")
    identities: list[Identity] = strawberry.field(
        description="Every identity the channels know the customer by."
    )
    tags: list[str] = strawberry.field(description="Tags, set by journeys or by hand.")
    attributes: JSON = strawberry.field(description="Profile attributes, name → JSON value.")
    consent: JSON = strawberry.field(
        description="Channel → whether the customer agreed to be reached (`granted` of `consents`)."
    )
    consents: list[ChannelConsent] = strawberry.field(
        description="Per channel, whether the customer agreed to be reached, what recorded it "
        "and when; channels never asked are absent."
    )
    first_touch_hook: str | None = strawberry.field(
        description="The hook (channel code `state`) that first brought the customer in."
    )
    merged_into: str | None = strawberry.field(
        description="Set when this record was merged into another customer (read that one)."
    )
    created_at: datetime = strawberry.field(description="When the customer was first seen.")
    updated_at: datetime = strawberry.field(description="When the profile last changed.")

    @classmethod
    def of(cls, model: CustomerModel) -> Customer:
        return cls(
            id=strawberry.ID(model.id),
            identities=[Identity.of(i.kind, i.value) for i in model.identities],
            tags=list(model.tags),
            attributes=JSON(dict(model.attributes)),
            consent=JSON({channel: record.granted for channel, record in model.consent.items()}),
            consents=[
                ChannelConsent.of(channel, record)
                for channel, record in sorted(model.consent.items())
            ],
            first_touch_hook=model.first_touch_hook,
            merged_into=model.merged_into,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )

    @described_field(
        "Events, deliveries and journey transitions merged in time order, oldest first "
        "(including those of customers merged into this one). Pages are stable: the cursor is "
        "the entry's (time, kind, id). An event reported late lands where it happened, possibly "
        "before pages already read. Two queries per customer: ask for it on one customer, not "
        "on a list."
    )
    async def timeline(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        kinds: Annotated[
            list[TimelineKind] | None,
            strawberry.argument(description="Only entries of these kinds (default: all)."),
        ] = None,
    ) -> Connection[TimelineEntry]:
        tenant_id = info.context.tenant_id
        store = info.context.services.store
        ids = await store.customers.with_merged(tenant_id, self.id)
        wanted: list[TimelineKindValue] | None = (
            None if kinds is None else [kind.value for kind in kinds]
        )
        page = await store.timeline.for_customer(
            tenant_id, ids, kinds=wanted, cursor=after, limit=page_limit(first)
        )
        return Connection.of(page, TimelineEntry.of, after=after)

    @described_field_of(
        "The customer's enrollments in start order (oldest first).", Connection[Enrollment]
    )
    def enrollments(
        self,
        info: Info,
        status: Annotated[
            list[EnrollmentStatus] | None,
            strawberry.argument(description="Any of these statuses (default: all)."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Enrollment] | Awaitable[Connection[Enrollment]]:
        # synchronous when the list was read ahead (`api.graphql.loaders`), else awaitable
        limit = page_limit(first)
        statuses: tuple[StatusValue, ...] = tuple(s.value for s in status or [])
        if after is None:
            key = (self.id, statuses, limit)
            page = info.context.loaders.peek_customer_enrollments(key)
            if page is not None:
                return Connection.of(page, Enrollment.of)
        return self._enrollments(info, statuses, limit, after)

    async def _enrollments(
        self, info: Info, statuses: tuple[StatusValue, ...], limit: int, after: str | None
    ) -> Connection[Enrollment]:
        if after is None:
            page = await info.context.loaders.customer_enrollments.load((self.id, statuses, limit))
        else:
            page = await info.context.services.store.enrollments.list(
                info.context.tenant_id,
                customer_id=self.id,
                status=statuses or None,
                cursor=after,
                limit=limit,
            )
        return Connection.of(page, Enrollment.of, after=after)
