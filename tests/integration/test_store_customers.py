"""Identity resolution and customer profiles against a real MongoDB-wire server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInputError, NotFoundError
from domain.events import Event
from store.customers import CustomerSearch
from store.customers import search as customer_search
from store.database import Store
from tests.integration.support import enrollment_record

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


async def test_unknown_identity_creates_a_customer(store: Store) -> None:
    customer, created = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)

    assert created
    assert customer.tenant_id == "acme"
    assert [(i.kind, i.value) for i in customer.identities] == [("unionid", "u-1")]
    assert await store.customers.get("acme", customer.id) == customer


async def test_known_identity_resolves_to_the_same_customer(store: Store) -> None:
    first, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    again, created = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)

    assert not created
    assert again.id == first.id


async def test_phone_numbers_are_normalized_before_matching(store: Store) -> None:
    first, _ = await store.customers.resolve("acme", {"phone": "+86 138-0013-8000"}, T0)
    again, created = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)

    assert not created
    assert again.id == first.id
    assert again.identity("phone") == "13800138000"


def _digits_from(zero: int, text: str) -> str:
    """`text` with its ASCII digits written in the script whose zero is `chr(zero)`."""
    return "".join(chr(zero + int(ch)) if ch.isascii() and ch.isdigit() else ch for ch in text)


FULL_WIDTH_ZERO, ARABIC_INDIC_ZERO = 0xFF10, 0x0660


@pytest.mark.parametrize(
    "written",
    [
        _digits_from(FULL_WIDTH_ZERO, "13800138000"),
        _digits_from(FULL_WIDTH_ZERO, "+86 138-0013-8000"),
        _digits_from(ARABIC_INDIC_ZERO, "13800138000"),
    ],
)
async def test_a_phone_in_other_digits_names_the_same_customer_as_ascii(
    store: Store, written: str
) -> None:
    first, _ = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)
    again, created = await store.customers.resolve("acme", {"phone": written}, T0)

    assert not created
    assert again.id == first.id
    assert again.identities == first.identities


async def test_two_identities_on_one_event_belong_to_one_customer(store: Store) -> None:
    customer, created = await store.customers.resolve(
        "acme", {"phone": "13800138000", "email": "Li.Lei@Example.com"}, T0
    )
    by_phone = await store.customers.get_by_identity("acme", "phone", "13800138000")
    by_email = await store.customers.get_by_identity("acme", "email", "li.lei@example.com")

    assert created
    assert by_phone is not None and by_phone.id == customer.id
    assert by_email is not None and by_email.id == customer.id


async def test_a_new_identity_is_added_to_the_known_customer(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"openid": "o-1"}, T0)
    later = T0 + timedelta(minutes=1)
    again, created = await store.customers.resolve(
        "acme", {"openid": "o-1", "wecom_external_userid": "wm-1"}, later
    )

    assert not created
    assert again.id == customer.id
    assert again.identity("wecom_external_userid") == "wm-1"
    assert again.updated_at == later


async def test_concurrent_resolves_of_a_new_identity_create_one_customer(store: Store) -> None:
    results = await asyncio.gather(
        *(store.customers.resolve("acme", {"unionid": "u-race"}, T0) for _ in range(12))
    )

    assert len({customer.id for customer, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    page = await store.customers.search("acme", CustomerSearch())
    assert len(page.items) == 1


async def test_identities_of_two_customers_merge_them_into_the_oldest(store: Store) -> None:
    older, _ = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)
    younger, _ = await store.customers.resolve("acme", {"unionid": "u-2"}, T0 + timedelta(hours=1))
    await store.customers.update_profile(
        "acme", older.id, T0, add_tags=["vip"], set_attributes={"city": "Shanghai"}
    )
    await store.customers.update_profile(
        "acme",
        younger.id,
        T0,
        add_tags=["source:douyin"],
        set_attributes={"city": "Beijing", "size": "M"},
    )
    await store.customers.set_first_touch_hook("acme", younger.id, "douyin-ad-spring", T0)
    await store.events.insert(
        Event(
            id="e-younger",
            tenant_id="acme",
            customer_id=younger.id,
            type="order.paid",
            identity={"unionid": "u-2"},
            timestamp=T0,
            received_at=T0,
        )
    )

    merged, created = await store.customers.resolve(
        "acme", {"phone": "13800138000", "unionid": "u-2"}, T0 + timedelta(hours=2)
    )

    assert not created
    assert merged.id == older.id
    assert {(i.kind, i.value) for i in merged.identities} == {
        ("phone", "13800138000"),
        ("unionid", "u-2"),
    }
    assert set(merged.tags) == {"vip", "source:douyin"}
    assert merged.attributes == {"city": "Shanghai", "size": "M"}
    assert merged.first_touch_hook == "douyin-ad-spring"
    loser = await store.customers.get("acme", younger.id, follow_merges=False)
    assert loser.merged_into == older.id
    assert loser.identities == []
    assert (await store.customers.get("acme", younger.id)).id == older.id
    event = await store.events.get("acme", "e-younger")
    assert event is not None and event.customer_id == older.id


async def test_two_merged_customers_do_not_collide_on_the_identity_index(store: Store) -> None:
    a, _ = await store.customers.resolve("acme", {"external_id": "a"}, T0)
    await store.customers.resolve("acme", {"external_id": "b"}, T0 + timedelta(seconds=1))
    await store.customers.resolve("acme", {"external_id": "c"}, T0 + timedelta(seconds=2))

    merged, _ = await store.customers.resolve(
        "acme", {"external_id": "a", "email": "x@example.com"}, T0
    )
    merged, _ = await store.customers.resolve(
        "acme", {"external_id": "b", "email": "x@example.com", "phone": "13900000000"}, T0
    )
    merged, _ = await store.customers.resolve(
        "acme", {"external_id": "c", "phone": "139 0000 0000"}, T0
    )

    assert merged.id == a.id
    assert {i.value for i in merged.identities if i.kind == "external_id"} == {"a", "b", "c"}
    assert [c.id for c in (await store.customers.search("acme", CustomerSearch())).items] == [a.id]
    assert (
        len((await store.customers.search("acme", CustomerSearch(include_merged=True))).items) == 3
    )


async def test_resolving_without_a_valid_identity_is_invalid_input(store: Store) -> None:
    with pytest.raises(InvalidInputError) as error:
        await store.customers.resolve("acme", {"phone": "no digits"}, T0)
    assert [p.path for p in error.value.problems] == ["identity.phone"]
    with pytest.raises(InvalidInputError):
        await store.customers.resolve("acme", {}, T0)


async def test_update_profile_adds_and_removes_tags_and_attributes_at_once(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    await store.customers.update_profile(
        "acme", customer.id, T0, add_tags=["stage:lead", "source:douyin"], set_attributes={"a": 1}
    )

    updated = await store.customers.update_profile(
        "acme",
        customer.id,
        T0 + timedelta(seconds=1),
        add_tags=["stage:customer"],
        remove_tags=["stage:lead"],
        set_attributes={"b": {"$not": "an operator"}, "c": "$a"},
        unset_attributes=["a"],
    )

    assert set(updated.tags) == {"stage:customer", "source:douyin"}
    assert updated.attributes == {"b": {"$not": "an operator"}, "c": "$a"}
    assert await store.customers.get("acme", customer.id) == updated


async def test_update_profile_rejects_dotted_attribute_names(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    with pytest.raises(InvalidInputError):
        await store.customers.update_profile("acme", customer.id, T0, set_attributes={"a.b": 1})


async def test_update_profile_of_an_unknown_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.customers.update_profile("acme", "cus_missing", T0, add_tags=["x"])


async def test_first_touch_hook_is_set_only_once(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)

    assert await store.customers.set_first_touch_hook("acme", customer.id, "douyin-ad", T0)
    assert not await store.customers.set_first_touch_hook("acme", customer.id, "store-qr", T0)
    assert (await store.customers.get("acme", customer.id)).first_touch_hook == "douyin-ad"


async def test_customer_pages_are_stable_while_customers_are_added(store: Store) -> None:
    for n in range(7):
        await store.customers.resolve("acme", {"external_id": f"c{n}"}, T0)

    seen: list[str] = []
    page = await store.customers.search("acme", CustomerSearch(), limit=3)
    seen += [c.id for c in page.items]
    await store.customers.resolve("acme", {"external_id": "late"}, T0)
    while page.next_cursor is not None:
        page = await store.customers.search(
            "acme", CustomerSearch(), limit=3, cursor=page.next_cursor
        )
        seen += [c.id for c in page.items]

    assert len(seen) == len(set(seen)) == 8
    assert seen == sorted(seen)


async def test_a_garbled_cursor_is_invalid_input(store: Store) -> None:
    with pytest.raises(InvalidInputError) as error:
        await store.customers.search("acme", CustomerSearch(), cursor="not-a-cursor!")
    assert error.value.problems[0].path == "cursor"


async def test_concurrent_merges_leave_one_live_customer_with_every_identity(store: Store) -> None:
    older, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    await store.customers.resolve("acme", {"phone": "13800138000"}, T0 + timedelta(seconds=1))
    await store.customers.resolve("acme", {"email": "a@example.com"}, T0 + timedelta(seconds=2))
    both = {"unionid": "u-1", "phone": "13800138000", "email": "a@example.com"}

    results = await asyncio.gather(*(store.customers.resolve("acme", both, T0) for _ in range(8)))

    assert {customer.id for customer, _ in results} == {older.id}
    live = (await store.customers.search("acme", CustomerSearch())).items
    assert [c.id for c in live] == [older.id]
    assert {i.kind for i in live[0].identities} == {"unionid", "phone", "email"}


async def test_journey_membership_search_scans_enrollments_in_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small scan batches: a page gathers matches across batches, and a scan that reads its
    whole budget without filling the page hands back a cursor that resumes after it."""
    ids = []
    for n in range(6):
        customer, _ = await store.customers.resolve("acme", {"external_id": f"c{n}"}, T0)
        if n % 2 == 0:
            await store.customers.update_profile("acme", customer.id, T0, add_tags=["even"])
        ids.append(customer.id)
        await store.enrollments.upsert_projection(
            enrollment_record("wait", started=T0, customer_id=customer.id)
        )
    monkeypatch.setattr(customer_search, "JOURNEY_SCAN_BATCH", 2)
    search = CustomerSearch(journey_id="jrn_1", journey_node="wait", tags_all=["even"])

    page = await store.customers.search("acme", search, limit=2)
    assert [c.id for c in page.items] == [ids[0], ids[2]]
    rest = await store.customers.search("acme", search, cursor=page.next_cursor, limit=2)
    assert [c.id for c in rest.items] == [ids[4]] and rest.next_cursor is None

    monkeypatch.setattr(customer_search, "MAX_JOURNEY_SCAN_BATCHES", 1)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        part = await store.customers.search("acme", search, cursor=cursor, limit=5)
        seen += [c.id for c in part.items]
        cursor = part.next_cursor
        if cursor is None:
            break
    assert seen == [ids[0], ids[2], ids[4]]
    assert await store.customers.count("acme", search) is None
    assert await store.customers.count("acme", CustomerSearch(journey_id="jrn_1")) == 6


async def test_journey_only_count_agrees_with_the_search_about_merged_customers(
    store: Store,
) -> None:
    older, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    newer, _ = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)
    for customer in (older, newer):
        await store.enrollments.upsert_projection(
            enrollment_record("wait", started=T0, customer_id=customer.id)
        )
    both = {"unionid": "u-1", "phone": "13800138000"}
    merged_into, _ = await store.customers.resolve("acme", both, T0 + timedelta(seconds=1))
    assert merged_into.id == older.id

    for include_merged in (False, True):
        search = CustomerSearch(journey_id="jrn_1", include_merged=include_merged)
        found = (await store.customers.search("acme", search)).items
        assert await store.customers.count("acme", search) == len(found)
    assert len(found) == 2


async def test_get_many_reads_customers_of_the_tenant_only(store: Store) -> None:
    mine, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    theirs, _ = await store.customers.resolve("other", {"unionid": "u-2"}, T0)

    found = await store.customers.get_many("acme", [mine.id, theirs.id, "cus_missing"])

    assert found == {mine.id: mine}
