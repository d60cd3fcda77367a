"""Metrics aggregations over a small known dataset on the real server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.deliveries import Delivery
from domain.enrollments import Enrollment, Transition
from domain.events import Event
from domain.metrics import (
    AudienceCut,
    ChannelCut,
    CommerceCounts,
    EdgeCount,
    ExitCount,
    JourneyCut,
    TimeRange,
)
from store.database import Store

T0 = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)  # a Monday
RANGE = TimeRange(start=datetime(2025, 1, 6, tzinfo=UTC), end=datetime(2025, 2, 3, tzinfo=UTC))
LATER = T0 + timedelta(days=400)
HOUR = timedelta(hours=1)
Step = tuple[str | None, str | None, str]


class Seed:
    """Writes through the repositories, numbering ids per tenant."""

    def __init__(self, store: Store, tenant: str) -> None:
        self.store = store
        self.tenant = tenant
        self.n = 0

    async def customer(
        self,
        at: datetime,
        hook: str | None = None,
        identities: dict[str, str] | None = None,
        consent_sms: bool = False,
    ) -> str:
        self.n += 1
        customer, _ = await self.store.customers.resolve(
            self.tenant, identities or {"external_id": f"{self.tenant}-{self.n}"}, at
        )
        if hook is not None:
            await self.store.customers.set_first_touch_hook(self.tenant, customer.id, hook, at)
        if consent_sms:
            await self.store.customers.set_consent(self.tenant, customer.id, "sms", True, at)
        return customer.id

    async def event(self, customer_id: str, kind: str, at: datetime, **properties: Any) -> None:
        self.n += 1
        stored = await self.store.events.insert(
            Event(
                id=f"ev{self.n}",
                tenant_id=self.tenant,
                customer_id=customer_id,
                type=kind,
                identity={"external_id": customer_id},
                timestamp=at,
                properties=properties,
                received_at=at,
            )
        )
        assert stored

    async def order(self, customer_id: str, at: datetime, **properties: Any) -> None:
        await self.event(customer_id, "order.paid", at, **properties)

    async def enrollment(
        self,
        customer_id: str,
        started_at: datetime,
        path: Sequence[Step],
        *,
        journey_id: str = "jrn_1",
        version: int = 1,
        converted_after: timedelta | None = None,
    ) -> str:
        """An enrollment whose transitions follow `path` of (from, to, label or exit reason)."""
        eid = f"{self.tenant}:{journey_id}:{customer_id}"
        converted_at = None if converted_after is None else started_at + converted_after
        await self.store.enrollments.upsert_projection(
            Enrollment(
                id=eid,
                tenant_id=self.tenant,
                journey_id=journey_id,
                version=version,
                customer_id=customer_id,
                status="converted" if converted_at else "active",
                converted_at=converted_at,
                started_at=started_at,
                updated_at=started_at,
                seq=len(path),
            )
        )
        transitions = []
        for seq, (source, target, label) in enumerate(path):
            at = started_at + timedelta(minutes=seq)
            if target is not None and target.startswith("goal") and converted_at is not None:
                at = converted_at
            transitions.append(
                Transition(
                    tenant_id=self.tenant,
                    enrollment_id=eid,
                    journey_id=journey_id,
                    version=version,
                    customer_id=customer_id,
                    seq=seq,
                    from_node=source,
                    to_node=target,
                    label="exit" if target is None else label,
                    reason=label if target is None else None,
                    at=at,
                )
            )
        await self.store.enrollments.record_transitions(transitions)
        return eid

    async def delivery(
        self, customer_id: str, channel: str, at: datetime, status: str = "succeeded"
    ) -> None:
        self.n += 1
        key = f"d{self.n}"
        await self.store.deliveries.begin(
            Delivery(
                tenant_id=self.tenant,
                idempotency_key=key,
                enrollment_id=f"{self.tenant}:jrn_1:{customer_id}",
                customer_id=customer_id,
                journey_id="jrn_1",
                node_id="welcome",
                channel=channel,
                action="send",
                created_at=at,
                updated_at=at,
            )
        )
        if status == "succeeded":
            await self.store.deliveries.mark_succeeded(self.tenant, key, at)
        elif status == "failed":
            await self.store.deliveries.mark_failed(self.tenant, key, at, error="boom")
        elif status == "skipped":
            await self.store.deliveries.mark_skipped(self.tenant, key, at, reason="opted out")


async def seed_audience(store: Store, tenant: str) -> list[str]:
    """10 customers first touched in the range: 6 via douyin-ad, 3 via store-qr, 1 direct.

    Orders after entering and before the range's end: c0 100+50, c1 "80", c2 30+30+40, c6 120.
    """
    seed = Seed(store, tenant)
    hooks = ["douyin-ad"] * 6 + ["store-qr"] * 3 + [None]
    ids = [await seed.customer(T0 + i * HOUR, hook) for i, hook in enumerate(hooks)]
    c = ids
    await seed.order(c[0], T0 + timedelta(days=1), amount=100)
    await seed.order(c[0], T0 + timedelta(days=2), total=50, amount=999)
    await seed.order(c[1], T0 + timedelta(days=1), amount="80")
    await seed.order(c[2], T0 + timedelta(days=3), total=30)
    await seed.order(c[2], T0 + timedelta(days=4), total=30)
    await seed.order(c[2], T0 + timedelta(days=5), amount=40)
    await seed.order(c[2], RANGE.end + HOUR, amount=1000)  # after the range: not counted
    await seed.order(c[3], T0, amount=500)  # before c3 entered (T0 + 3h): not counted
    await seed.order(c[6], T0 + timedelta(days=10), amount=120)
    await seed.event(c[4], "wecom.message", T0 + timedelta(days=2))  # not an order
    before = await seed.customer(RANGE.start - timedelta(days=3), "douyin-ad")
    await seed.order(before, T0 + timedelta(days=1), amount=70)  # entered before the range
    return ids


async def test_conversion_frequency_aov_and_arpu_of_customers_first_touched_in_the_range(
    store: Store,
) -> None:
    await seed_audience(store, "acme")

    counts = (await store.metrics.commerce("acme", RANGE, AudienceCut()))[None]

    assert counts == CommerceCounts(entered=10, buyers=4, repeat_buyers=2, orders=7, revenue=450.0)
    assert counts.conversion_rate == 0.4
    assert counts.repurchase_rate == 0.5
    assert counts.purchase_frequency == 1.75
    assert counts.aov == pytest.approx(450 / 7)
    assert counts.arpu == 45.0
    assert counts.arpu == pytest.approx(0.4 * 1.75 * (450 / 7))


async def test_refunds_lower_revenue_and_a_full_refund_is_no_longer_a_purchase(
    store: Store,
) -> None:
    seed = Seed(store, "acme")
    a, b, c, d = [await seed.customer(T0 + i * HOUR) for i in range(4)]
    day = timedelta(days=1)
    await seed.order(a, T0 + day, order_id="E1", amount=10000)
    await seed.order(a, T0 + 2 * day, order_id="E2", amount=5000)
    await seed.event(a, "order.refunded", T0 + 3 * day, order_id="E2", amount=2000)  # partial
    await seed.order(b, T0 + day, order_id="E3", amount=8000)
    await seed.order(b, T0 + 2 * day, order_id="E4", amount=4000)
    await seed.event(b, "order.refunded", T0 + 3 * day, order_id="E4", amount=4000, full=True)
    await seed.order(c, T0 + day, order_id="E5", amount=3000)
    await seed.order(c, T0 + 2 * day, order_id="E7", amount=3000)
    # refunded in full by amount, in two parts, without saying so
    await seed.event(c, "order.refunded", T0 + 3 * day, order_id="E5", amount=1000)
    await seed.event(c, "order.refunded", T0 + 4 * day, order_id="E5", amount="2000")
    await seed.order(d, T0 + day, order_id="E6", amount=6000)
    await seed.event(d, "order.refunded", RANGE.end + HOUR, order_id="E6", amount=6000)  # later
    await seed.event(d, "order.refunded", T0 + 2 * day, order_id="nope", amount=500)  # no order

    counts = (await store.metrics.commerce("acme", RANGE, AudienceCut()))[None]

    # a: 2 orders, 13000; b: E3 only, 8000; c: E7 only, 3000; d: E6, 6000 (refunded after `to`)
    assert counts == CommerceCounts(entered=4, buyers=4, repeat_buyers=1, orders=5, revenue=30000.0)
    assert counts.aov == 6000.0
    assert counts.repurchase_rate == 0.25
    assert counts.purchase_frequency == 1.25


async def test_a_customer_whose_only_order_was_refunded_in_full_is_not_a_buyer(
    store: Store,
) -> None:
    seed = Seed(store, "acme")
    a = await seed.customer(T0)
    await seed.order(a, T0 + HOUR, order_id="E1", amount=9900)
    await seed.event(a, "order.refunded", T0 + 2 * HOUR, order_id="E1", amount=9900)

    counts = (await store.metrics.commerce("acme", RANGE, AudienceCut()))[None]

    assert counts == CommerceCounts(entered=1, buyers=0, repeat_buyers=0, orders=0, revenue=0.0)
    assert counts.aov is None


async def test_levers_break_down_by_first_touch_hook(store: Store) -> None:
    await seed_audience(store, "acme")

    by_hook = await store.metrics.commerce("acme", RANGE, AudienceCut(by_hook=True))
    one_hook = await store.metrics.commerce("acme", RANGE, AudienceCut(hook="store-qr"))

    assert by_hook == {
        "douyin-ad": CommerceCounts(entered=6, buyers=3, repeat_buyers=2, orders=6, revenue=330.0),
        "store-qr": CommerceCounts(entered=3, buyers=1, repeat_buyers=0, orders=1, revenue=120.0),
        None: CommerceCounts(entered=1, buyers=0, repeat_buyers=0, orders=0, revenue=0.0),
    }
    assert one_hook == {None: by_hook["store-qr"]}


async def test_another_tenants_data_is_never_counted(store: Store) -> None:
    await seed_audience(store, "acme")
    await seed_audience(store, "globex")
    other = Seed(store, "globex")
    await other.enrollment("x", T0, [(None, "entry", "start")])
    await other.delivery("x", "wecom", T0)

    counts = (await store.metrics.commerce("acme", RANGE, AudienceCut()))[None]
    journey = JourneyCut(journey_id="jrn_1")

    assert counts.entered == 10 and counts.orders == 7 and counts.revenue == 450.0
    assert await store.metrics.commerce("acme", RANGE, journey) == {}
    assert (await store.metrics.journey_conversion("acme", RANGE, journey)).started == 0
    assert await store.metrics.deliveries("acme", RANGE, ChannelCut()) == []
    assert await store.metrics.commerce("nobody", RANGE, AudienceCut()) == {}


async def test_an_empty_range_gives_zeros_and_no_rates(store: Store) -> None:
    await seed_audience(store, "acme")
    empty = TimeRange(start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 2, 1, tzinfo=UTC))
    journey = JourneyCut(journey_id="jrn_1")

    conversion = await store.metrics.journey_conversion("acme", empty, journey)
    funnel = await store.metrics.funnel("acme", empty, journey, None)

    assert await store.metrics.commerce("acme", empty, AudienceCut()) == {}
    assert await store.metrics.retention("acme", empty, AudienceCut(), LATER) == {}
    assert conversion.started == 0 and conversion.conversion_rate is None
    assert conversion.median_time_to_convert is None
    assert funnel.started == 0 and funnel.nodes == []
    assert CommerceCounts.empty().arpu is None


async def test_journey_conversion_counts_enrollments_and_times_to_convert(store: Store) -> None:
    seed = Seed(store, "acme")
    customers = [await seed.customer(T0, "douyin-ad" if i < 5 else None) for i in range(10)]
    durations = [HOUR, 2 * HOUR, 3 * HOUR, 10 * HOUR]
    for i, customer in enumerate(customers):
        await seed.enrollment(
            customer,
            T0 + i * HOUR,
            [(None, "entry", "start")],
            version=1 if i < 8 else 2,
            converted_after=durations[i] if i < 4 else None,
        )
    early = await seed.customer(T0 - timedelta(days=30))
    await seed.enrollment(early, T0 - timedelta(days=30), [], converted_after=HOUR)

    journey = await store.metrics.journey_conversion("acme", RANGE, JourneyCut(journey_id="jrn_1"))
    v2 = await store.metrics.journey_conversion(
        "acme", RANGE, JourneyCut(journey_id="jrn_1", version=2)
    )
    hooked = await store.metrics.journey_conversion(
        "acme", RANGE, JourneyCut(journey_id="jrn_1", hook="douyin-ad")
    )

    assert (journey.started, journey.converted, journey.conversion_rate) == (10, 4, 0.4)
    assert journey.median_time_to_convert == 2.5 * HOUR
    assert journey.mean_time_to_convert == 4 * HOUR
    assert (v2.started, v2.converted, v2.median_time_to_convert) == (2, 0, None)
    assert (hooked.started, hooked.converted) == (5, 4)


async def test_the_median_of_an_odd_count_is_the_middle_duration(store: Store) -> None:
    seed = Seed(store, "acme")
    for hours in (5, 1, 3):
        customer = await seed.customer(T0)
        await seed.enrollment(customer, T0, [], converted_after=hours * HOUR)

    result = await store.metrics.journey_conversion("acme", RANGE, JourneyCut(journey_id="jrn_1"))

    assert result.median_time_to_convert == 3 * HOUR
    assert result.mean_time_to_convert == 3 * HOUR


async def test_the_funnel_counts_entries_edges_exits_and_conversions_per_node(
    store: Store,
) -> None:
    seed = Seed(store, "acme")
    start: list[Step] = [(None, "entry", "start"), ("entry", "welcome", "next")]
    to_wait: list[Step] = [("welcome", "wait", "next")]
    converted: list[Step] = [("wait", "goal", "goal:order.paid"), ("goal", None, "converted")]
    paths: Sequence[tuple[list[Step], timedelta | None]] = (
        [(start + to_wait + converted, 3 * HOUR)] * 4
        + [(start + to_wait + [("wait", None, "not_onboarded")], None)]
        + [(start + to_wait + [("wait", "welcome", "retry")] + to_wait, None)]
        + [(start, None)] * 4
    )
    for path, converted_after in paths:
        customer = await seed.customer(T0)
        await seed.enrollment(customer, T0, path, converted_after=converted_after)
    late = await seed.customer(T0)
    await seed.enrollment(late, RANGE.end, start)  # started after the range

    funnel = await store.metrics.funnel("acme", RANGE, JourneyCut(journey_id="jrn_1"), None)
    nodes = {node.node_id: node for node in funnel.nodes}

    assert funnel.started == 10
    assert [n.node_id for n in funnel.nodes] == ["entry", "goal", "wait", "welcome"]
    entry, welcome, wait, goal = nodes["entry"], nodes["welcome"], nodes["wait"], nodes["goal"]
    assert (entry.entered, entry.enrollments, entry.converted) == (10, 10, 4)
    assert entry.proceeded == [EdgeCount(label="next", target="welcome", count=10)]
    assert (welcome.entered, welcome.enrollments, welcome.converted) == (11, 10, 4)
    assert welcome.proceeded == [EdgeCount(label="next", target="wait", count=7)]
    assert (wait.entered, wait.enrollments, wait.converted) == (7, 6, 4)
    assert wait.proceeded == [
        EdgeCount(label="goal:order.paid", target="goal", count=4),
        EdgeCount(label="retry", target="welcome", count=1),
    ]
    assert wait.exited == [ExitCount(reason="not_onboarded", count=1)]
    assert (goal.entered, goal.enrollments, goal.converted) == (4, 4, 4)
    assert goal.exited == [ExitCount(reason="converted", count=4)]
    assert funnel.reach_rate(wait) == 0.6
    assert wait.proceed_rate == 5 / 7 and wait.exit_rate == 1 / 7
    assert wait.conversion_rate == 4 / 6
    assert entry.kind == "unknown"


async def test_nodes_entered_after_converting_do_not_count_as_converting(store: Store) -> None:
    seed = Seed(store, "acme")
    customer = await seed.customer(T0)
    path = [
        (None, "entry", "start"),
        ("entry", "goal", "goal:order.paid"),
        ("goal", "loop_wait", "next"),
    ]
    await seed.enrollment(customer, T0, path, converted_after=timedelta(seconds=30))

    funnel = await store.metrics.funnel("acme", RANGE, JourneyCut(journey_id="jrn_1"), None)
    converted = {node.node_id: node.converted for node in funnel.nodes}

    assert converted == {"entry": 1, "goal": 1, "loop_wait": 0}


async def test_journey_levers_use_each_customers_first_start_in_the_range(store: Store) -> None:
    seed = Seed(store, "acme")
    customers = [await seed.customer(T0) for _ in range(10)]
    for customer in customers:
        await seed.enrollment(customer, T0 + HOUR, [(None, "entry", "start")])
    await seed.order(customers[0], T0 + 2 * HOUR, amount=10)
    await seed.order(customers[0], T0 + 3 * HOUR, amount=20)
    await seed.order(customers[1], T0, amount=99)  # before enrolling
    await seed.order(customers[2], T0 + 2 * HOUR, amount=30)

    counts = await store.metrics.commerce("acme", RANGE, JourneyCut(journey_id="jrn_1"))

    assert counts == {
        None: CommerceCounts(entered=10, buyers=2, repeat_buyers=1, orders=3, revenue=60.0)
    }


async def test_channels_count_deliveries_and_the_levers_of_customers_they_reached(
    store: Store,
) -> None:
    seed = Seed(store, "acme")
    j = [await seed.customer(T0) for _ in range(4)]
    await seed.delivery(j[0], "wecom", T0 + HOUR)
    await seed.delivery(j[0], "wecom", T0 + 2 * HOUR)
    await seed.delivery(j[1], "wecom", T0 + HOUR, status="failed")
    await seed.delivery(j[2], "wecom", T0 + HOUR)
    await seed.delivery(j[0], "sms", T0 + HOUR, status="pending")
    await seed.delivery(j[3], "sms", T0 + HOUR)
    await seed.order(j[0], T0 + 3 * HOUR, amount=10)
    await seed.order(j[0], T0 + 4 * HOUR, amount=20)
    await seed.order(j[1], T0 + 4 * HOUR, amount=50)  # never reached
    await seed.order(j[2], T0 + 30 * 60 * 1000 * timedelta(milliseconds=1), amount=7)  # before
    await seed.order(j[2], T0 + 5 * HOUR, amount=30)

    deliveries = {d.channel: d for d in await store.metrics.deliveries("acme", RANGE, ChannelCut())}
    levers = await store.metrics.commerce("acme", RANGE, ChannelCut())

    wecom, sms = deliveries["wecom"], deliveries["sms"]
    assert (wecom.total, wecom.succeeded, wecom.failed, wecom.pending) == (4, 3, 1, 0)
    assert wecom.customers_reached == 2 and wecom.success_rate == 0.75
    assert (sms.total, sms.succeeded, sms.failed, sms.pending, sms.customers_reached) == (
        2,
        1,
        0,
        1,
        1,
    )
    assert levers == {
        "wecom": CommerceCounts(entered=2, buyers=2, repeat_buyers=1, orders=3, revenue=60.0),
        "sms": CommerceCounts(entered=1, buyers=0, repeat_buyers=0, orders=0, revenue=0.0),
    }
    assert levers["sms"].arpu == 0.0 and levers["sms"].aov is None


async def test_retention_counts_customers_active_and_reachable_in_the_last_week_of_day_n(
    store: Store,
) -> None:
    seed = Seed(store, "acme")
    day = timedelta(days=1)
    r = [await seed.customer(T0) for _ in range(4)]
    week2 = await seed.customer(T0 + 7 * day)
    await seed.event(r[0], "wecom.message", T0 + 5 * day)  # in days 1..7: retained
    await seed.event(r[1], "wecom.message", T0 + 0.5 * day)  # day 0 only: not retained
    await seed.event(r[2], "wecom.contact_added", T0)
    await seed.event(r[2], "wecom.contact_deleted_by_customer", T0 + 3 * day)
    await seed.event(r[2], "wecom.message", T0 + 7.5 * day)  # active but deleted: not retained
    await seed.event(r[3], "wecom.contact_deleted_by_customer", T0 + 2 * day)
    await seed.event(r[3], "wecom.contact_added", T0 + 4 * day)
    await seed.event(r[3], "order.paid", T0 + 6 * day, amount=1)  # re-added, active: retained
    await seed.event(week2, "group.message", T0 + 7 * day + 30 * day)  # day 30 of week 2

    soon = await store.metrics.retention("acme", RANGE, AudienceCut(), T0 + 20 * day)
    later = await store.metrics.retention("acme", RANGE, AudienceCut(), LATER)

    first, second = soon[None]
    assert first.week_start == datetime(2025, 1, 6, tzinfo=UTC) and first.entered == 4
    assert second.week_start == datetime(2025, 1, 13, tzinfo=UTC) and second.entered == 1
    assert [(p.day, p.eligible, p.retained) for p in first.points] == [
        (7, 4, 2),
        (30, 0, 0),
        (90, 0, 0),
    ]
    assert [(p.day, p.eligible, p.retained) for p in second.points] == [
        (7, 1, 0),
        (30, 0, 0),
        (90, 0, 0),
    ]
    assert [(p.day, p.eligible, p.retained) for p in later[None][1].points] == [
        (7, 1, 0),
        (30, 1, 1),
        (90, 1, 0),
    ]
    assert first.points[0].rate == 0.5 and first.points[1].rate is None


async def test_private_domain_users_are_the_reachable_customers_at_the_ranges_end(
    store: Store,
) -> None:
    seed = Seed(store, "acme")
    wecom = await seed.customer(T0, "douyin-ad", {"wecom_external_userid": "wm1"})
    deleted = await seed.customer(T0, "douyin-ad", {"wecom_external_userid": "wm2"})
    await seed.customer(T0, "store-qr", {"phone": "13800138000"}, consent_sms=True)
    await seed.customer(T0, None, {"phone": "13800138001"})  # no consent
    await seed.customer(T0, None, {"openid": "o1"})
    await seed.customer(RANGE.end, None, {"openid": "o2"})  # after the range
    await seed.event(wecom, "wecom.contact_added", T0)
    await seed.event(deleted, "wecom.contact_added", T0)
    await seed.event(deleted, "wecom.contact_deleted_by_customer", T0 + HOUR)

    total = await store.metrics.private_domain_users("acme", RANGE, AudienceCut())
    by_hook = await store.metrics.private_domain_users("acme", RANGE, AudienceCut(by_hook=True))

    assert total == {None: 3}
    assert by_hook == {"douyin-ad": 1, "store-qr": 1, None: 1}
