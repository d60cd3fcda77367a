"""Events whose routing keeps failing: counted, backed off, parked as dead letters, never holding
back other tenants or (once parked) their customer's later events; long entry keys; and the
preparation WeCom callbacks need, redone by recovery.

Real MongoDB and Temporal dev server; the failures are real ones (an event naming a customer that
does not exist, a preparation no process registered). No workers unless a test needs the
projection.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.models import JOURNEYS_TASK_QUEUE, EnrollmentRef
from api.services.wecom_callbacks import WeComCallbackService
from connectors.wecom.envelope import CallbackCodec
from domain.channels import new_callback_id
from domain.enrollments import Enrollment, enrollment_id
from domain.errors import NotFoundError
from domain.events import Event
from domain.wecom_events import FOLLOW_USER_ATTRIBUTE
from ingestion.retries import RetryPolicy, describe_failure
from ingestion.service import IngestService
from store.database import Store
from tests.api.journeys import welcome_journey
from tests.api.support import (
    TenantKeys,
    event,
    eventually,
    gql,
    make_tenant,
    published_journey,
    signalled_event_ids,
)
from tests.api.test_ingest_recovery import Clock
from tests.api.test_wecom_callbacks import added, credentials_of, crypto_of, query, sealed
from workflows.converter import DATA_CONVERTER
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyInput

POLICY = RetryPolicy(max_attempts=3, first_delay=timedelta(minutes=1))


def _signup(event_id: str, phone: str, **properties: Any) -> dict[str, Any]:
    return event(event_id, "signup.completed", {"phone": phone}, {"plan": "pro", **properties})


async def _orphan(store: Store, tenant_id: str, event_id: str, received_at: datetime) -> None:
    """A stored, never-routed event whose customer does not exist (routing it always fails)."""
    await store.events.insert(
        Event(
            id=event_id,
            tenant_id=tenant_id,
            customer_id="cus_gone",
            type="signup.completed",
            identity={"phone": "13900000999"},
            timestamp=received_at,
            properties={"plan": "pro"},
            received_at=received_at,
        )
    )


async def test_an_event_that_keeps_failing_backs_off_then_is_parked_as_a_dead_letter(
    store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    clock = Clock()
    service = IngestService(store, temporal_env.client, clock, POLICY)
    await _orphan(store, tenant.tenant_id, "bad-1", clock.now)
    clock.now += timedelta(minutes=2)

    assert await service.recover() == 0
    first = await store.events.find(tenant.tenant_id, "bad-1")
    assert first is not None and first.pending and first.attempts == 1
    assert first.last_error is not None and first.last_error.startswith("NotFound")
    assert first.retry_at is not None and first.retry_at > clock.now

    # Within its backoff a sweep leaves it alone.
    assert await service.recover() == 0
    still = await store.events.find(tenant.tenant_id, "bad-1")
    assert still is not None and still.attempts == 1

    clock.now += timedelta(minutes=1, seconds=1)
    await service.recover()
    second = await store.events.find(tenant.tenant_id, "bad-1")
    assert second is not None and second.attempts == 2 and second.pending
    assert second.retry_at is not None and second.retry_at - clock.now > timedelta(minutes=1)

    clock.now += timedelta(minutes=2, seconds=1)
    await service.recover()
    parked = await store.events.find(tenant.tenant_id, "bad-1")
    assert parked is not None and not parked.pending and parked.attempts == 3
    assert parked.dead_at is not None and parked.retry_at is None
    page = await store.dead_letters.list(tenant.tenant_id)
    assert [item.event.id for item in page.items] == ["bad-1"]

    clock.now += timedelta(days=1)
    assert await service.recover() == 0
    after = await store.events.find(tenant.tenant_id, "bad-1")
    assert after is not None and after.attempts == 3  # parked: no sweep tries it again


async def test_routing_that_fails_live_is_counted_and_left_to_a_sweep_after_its_backoff(
    store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    clock = Clock()
    service = IngestService(store, temporal_env.client, clock, POLICY)
    batch = await service.store(
        tenant.tenant_id, [_signup("s1", "13900000105")], prepare="unknown.step"
    )
    await service.route(batch)

    [result] = batch.results
    assert result.routing_error == (
        "stored, routing failed: preparation 'unknown.step' is not known to this process"
    )
    stored = await store.events.find(tenant.tenant_id, "s1")
    assert stored is not None and stored.pending and stored.attempts == 1
    assert stored.retry_at == clock.now.replace(
        microsecond=clock.now.microsecond // 1000 * 1000
    ) + timedelta(minutes=1)
    clock.now += timedelta(seconds=59)
    await service.recover(older_than=timedelta(0))
    unchanged = await store.events.find(tenant.tenant_id, "s1")
    assert unchanged is not None and unchanged.attempts == 1
    clock.now += timedelta(seconds=2)
    await service.recover(older_than=timedelta(0))
    tried = await store.events.find(tenant.tenant_id, "s1")
    assert tried is not None and tried.attempts == 2


async def test_a_parked_event_stops_holding_back_its_customers_later_events(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant)
    clock = Clock()
    service = IngestService(store, temporal_env.client, clock, POLICY)
    # s1 names a preparation no process knows: every attempt to route it fails.
    await service.store(tenant.tenant_id, [_signup("s1", "13900000101")], prepare="unknown.step")
    clock.now += timedelta(milliseconds=1)
    await service.store(tenant.tenant_id, [_signup("s2", "13900000101")])
    stored = await store.events.get(tenant.tenant_id, "s2")
    assert stored is not None
    workflow_id = enrollment_id(tenant.tenant_id, journey_id, stored.customer_id)

    clock.now += timedelta(minutes=2)
    assert await service.recover() == 0  # s1 fails; s2 waits behind it
    for _ in range(2):
        # s1 waits out its backoff: s2 is kept back meanwhile, so it never overtakes s1.
        assert await service.recover() == 0
        later = await store.events.find(tenant.tenant_id, "s2")
        assert later is not None and later.pending and later.attempts == 0
        clock.now += timedelta(minutes=4)
        await service.recover()  # s1's next attempt fails too; the last one parks it

    parked = await store.events.find(tenant.tenant_id, "s1")
    assert parked is not None and parked.dead_at is not None
    assert parked.last_error == "preparation 'unknown.step' is not known to this process"
    assert await service.recover() == 1  # s2, no longer held back
    assert await signalled_event_ids(temporal_env, workflow_id) == ["s2"]


async def test_one_tenants_failing_events_do_not_hold_back_another_tenants(
    store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys, api: httpx.AsyncClient
) -> None:
    other = await make_tenant(store, "brand-b")
    journey_id = await published_journey(api, other)
    clock = Clock()
    service = IngestService(store, temporal_env.client, clock, POLICY)
    for n in range(6):  # older than the other tenant's event, and failing
        await _orphan(store, tenant.tenant_id, f"bad-{n}", clock.now)
        clock.now += timedelta(milliseconds=1)
    await service.store(other.tenant_id, [_signup("good", "13900000102")])
    clock.now += timedelta(minutes=2)

    assert await service.recover(limit=4) == 1  # two tenants: a share of two each

    good = await store.events.find(other.tenant_id, "good")
    assert good is not None and not good.pending
    attempted = [
        found.attempts
        for n in range(6)
        if (found := await store.events.find(tenant.tenant_id, f"bad-{n}")) is not None
    ]
    assert attempted == [1, 1, 0, 0, 0, 0]  # the failing tenant's share: its oldest two
    workflow_id = enrollment_id(other.tenant_id, journey_id, good.event.customer_id)
    assert await signalled_event_ids(temporal_env, workflow_id) == ["good"]


def test_a_failure_records_the_errors_kind_never_arbitrary_exception_text() -> None:
    secret = "mongodb://admin:s3cr3t@db.internal:27017"
    assert describe_failure(RuntimeError(f"cannot reach {secret}")) == "RuntimeError"
    assert describe_failure(ConnectionError(secret)) == "ConnectionError"
    assert (
        describe_failure(NotFoundError("customer", "cus_1"))
        == "NotFound: customer 'cus_1' not found"
    )


def _concurrent_journey() -> dict[str, Any]:
    definition = welcome_journey(timeout="PT10M")
    definition["nodes"][0]["reentry"] = {"mode": "concurrent", "entry_key": "order_id"}
    return definition


async def test_an_event_with_a_very_long_entry_key_enrolls_under_a_hashed_id(
    api: httpx.AsyncClient,
    store: Store,
    temporal_env: WorkflowEnvironment,
    tenant: TenantKeys,
    workers: None,
) -> None:
    journey_id = await published_journey(api, tenant, _concurrent_journey())
    service = IngestService(store, temporal_env.client)
    long_key = "order-" + "x" * 2000  # the id would pass the dev server's 1000 bytes

    [result] = await service.ingest(
        tenant.tenant_id, [_signup("long-1", "13900000103", order_id=long_key)]
    )

    assert result.routing_error is None, result.routing_error
    [route] = result.routes
    assert route.action == "enrolled"
    assert route.enrollment_id == enrollment_id(
        tenant.tenant_id, journey_id, result.customer_id or "", long_key
    )
    assert len(route.enrollment_id) < 200 and long_key not in route.enrollment_id

    async def projected() -> Enrollment | None:
        return await store.enrollments.get(tenant.tenant_id, route.enrollment_id)

    enrollment = await eventually(projected)
    assert enrollment.entry_key == long_key  # the readable key stays in the projection
    read = await gql(
        api, tenant, "query($id: ID!) { enrollment(id: $id) { entryKey } }", {"id": enrollment.id}
    )
    assert read["enrollment"] == {"entryKey": long_key}
    assert await store.dead_letters.count(tenant.tenant_id) == 0


async def test_an_enrollment_started_under_an_unhashed_id_keeps_getting_its_key_events(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    journey_id = await published_journey(api, tenant, _concurrent_journey())
    service = IngestService(store, temporal_env.client)
    key = "订单 2026/001"  # not a plain token: hashed into ids from now on
    [first] = await service.ingest(tenant.tenant_id, [_signup("c0", "13900000104", order_id="a")])
    customer_id = first.customer_id or ""
    # What an older release started: the key as it is in the id, and its projection.
    legacy = f"{tenant.tenant_id}:{journey_id}:{customer_id}:{key}"
    assert legacy != enrollment_id(tenant.tenant_id, journey_id, customer_id, key)
    ref = EnrollmentRef(
        tenant_id=tenant.tenant_id,
        journey_id=journey_id,
        version=1,
        customer_id=customer_id,
        enrollment_id=legacy,
    )
    await temporal_env.client.start_workflow(
        JourneyWorkflow.run,
        JourneyInput(enrollment=ref),
        id=legacy,
        task_queue=JOURNEYS_TASK_QUEUE,
    )
    now = datetime.now(UTC)
    await store.enrollments.upsert_projection(
        Enrollment(
            id=legacy,
            tenant_id=tenant.tenant_id,
            journey_id=journey_id,
            version=1,
            customer_id=customer_id,
            started_at=now,
            updated_at=now,
            seq=1,
        )
    )

    [result] = await service.ingest(tenant.tenant_id, [_signup("c1", "13900000104", order_id=key)])

    assert [(route.enrollment_id, route.action) for route in result.routes] == [
        (legacy, "enrolled")
    ]
    assert await signalled_event_ids(temporal_env, legacy) == ["c1"]


async def test_recovery_notes_the_follow_user_of_a_wecom_callback_stored_before_a_crash(
    store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    credentials = credentials_of(tenant.tenant_id, new_callback_id())
    await store.wecom_credentials.put(credentials)
    clock = Clock()

    class DiesBeforeRouting(IngestService):
        """Stores, then the process dies: the background routing, and the preparation that
        runs in it, never happen."""

        def _schedule(self, *args: Any, **kwargs: Any) -> Any:
            return None

    dying = DiesBeforeRouting(store, temporal_env.client, clock)
    wecom = WeComCallbackService(store, dying, CallbackCodec(), clock)
    body = sealed(crypto_of(credentials), added("wm-crash-1"))
    params = query(body)
    receipt = await wecom.receive(
        credentials.callback_id, params["msg_signature"], params["timestamp"], params["nonce"], body
    )
    assert receipt.status == "ingested"
    [event_id] = receipt.event_ids
    stored = await store.events.find(tenant.tenant_id, event_id)
    assert stored is not None and stored.pending
    customer_id = stored.event.customer_id
    before = await store.customers.get(tenant.tenant_id, customer_id)
    assert FOLLOW_USER_ATTRIBUTE not in before.attributes

    # The next process: its services as the API builds them.
    service = IngestService(store, temporal_env.client, clock)
    WeComCallbackService(store, service, CallbackCodec(), clock)
    clock.now += timedelta(minutes=2)
    assert await service.recover() == 1

    noted = await store.customers.get(tenant.tenant_id, customer_id)
    assert noted.attributes.get(FOLLOW_USER_ATTRIBUTE) == "zhangsan"
    routed = await store.events.find(tenant.tenant_id, event_id)
    assert routed is not None and not routed.pending


async def test_an_outage_of_temporal_is_not_counted_towards_parking(
    api: httpx.AsyncClient, store: Store, temporal_env: WorkflowEnvironment, tenant: TenantKeys
) -> None:
    await published_journey(api, tenant)
    # A real client of a Temporal server that is down: nothing listens on its port.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        down = await Client.connect(
            f"127.0.0.1:{held.getsockname()[1]}", data_converter=DATA_CONVERTER, lazy=True
        )
        clock = Clock()
        service = IngestService(store, down, clock, POLICY)
        [result] = await service.ingest(tenant.tenant_id, [_signup("out-1", "13900000123")])
        assert result.status == "accepted" and result.routing_error is not None
        for _ in range(POLICY.max_attempts + 1):
            clock.now += timedelta(hours=2)
            await service.recover()
    pending = await store.events.find(tenant.tenant_id, "out-1")
    assert pending is not None and pending.pending and pending.attempts == 0
    assert pending.dead_at is None

    # Once Temporal is back, the sweep routes it.
    clock.now += timedelta(hours=2)
    back = IngestService(store, temporal_env.client, clock, POLICY)
    assert await back.recover() == 1
