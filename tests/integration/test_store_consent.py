"""Consent records on customer documents against a real MongoDB-wire server: writing them,
reading documents written before them, following merges, and searching by them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.customers import ChannelConsent, ConsentStatus
from domain.errors import InvalidInputError, NotFoundError
from store.customers import CustomerSearch
from store.database import Store
from store.mongo import CUSTOMERS

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


async def test_set_consent_records_status_source_and_time(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"phone": "13800138000"}, T0)

    await store.customers.set_consent("acme", customer.id, "sms", True, T0)
    later = T0 + timedelta(days=1)
    updated = await store.customers.set_consent(
        "acme", customer.id, "sms", False, later, source="sms_reply"
    )

    expected = ChannelConsent(status="opted_out", source="sms_reply", at=later)
    assert updated.consent == {"sms": expected}
    assert (await store.customers.get("acme", customer.id)).consent == {"sms": expected}


async def test_a_document_with_the_old_boolean_shape_still_loads(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"phone": "13800138001"}, T0)
    await store.db[CUSTOMERS].update_one(
        {"_id": customer.id}, {"$set": {"consent": {"sms": True, "email": False}}}
    )

    loaded = await store.customers.get("acme", customer.id)

    assert loaded.consent["sms"] == ChannelConsent(status="opted_in")
    assert loaded.opted_out("email") == ChannelConsent(status="opted_out")


async def test_bad_channel_or_source_names_are_refused_and_nothing_is_stored(store: Store) -> None:
    customer, _ = await store.customers.resolve("acme", {"phone": "13800138002"}, T0)

    with pytest.raises(InvalidInputError) as caught:
        await store.customers.set_consent("acme", customer.id, "s.ms", True, T0, source="Bad!")
    assert [p.path for p in caught.value.problems] == ["channel", "source"]
    with pytest.raises(NotFoundError):
        await store.customers.set_consent("acme", "cus_nobody", "sms", True, T0)
    assert (await store.customers.get("acme", customer.id)).consent == {}


async def test_consent_set_on_a_merged_customer_lands_on_the_survivor(store: Store) -> None:
    older, _ = await store.customers.resolve("acme", {"unionid": "u-1"}, T0)
    younger, _ = await store.customers.resolve("acme", {"phone": "13800138003"}, T0)
    survivor, _ = await store.customers.resolve(
        "acme", {"unionid": "u-1", "phone": "13800138003"}, T0
    )
    assert survivor.id == older.id

    await store.customers.set_consent("acme", younger.id, "oa", False, T0, source="oa_unfollow")

    assert (await store.customers.get("acme", older.id)).opted_out("oa") is not None


async def test_search_by_consent_finds_records_and_old_booleans(store: Store) -> None:
    ids = []
    for n in range(4):
        customer, _ = await store.customers.resolve("acme", {"phone": f"1390000000{n}"}, T0)
        ids.append(customer.id)
    await store.customers.set_consent("acme", ids[0], "sms", True, T0)
    await store.customers.set_consent("acme", ids[1], "sms", False, T0, source="sms_reply")
    await store.db[CUSTOMERS].update_one({"_id": ids[2]}, {"$set": {"consent": {"sms": True}}})

    async def found(channel: str, status: ConsentStatus) -> list[str]:
        page = await store.customers.search("acme", CustomerSearch(consent={channel: status}))
        return [c.id for c in page.items]

    assert await found("sms", "opted_in") == [ids[0], ids[2]]
    assert await found("sms", "opted_out") == [ids[1]]
    assert await found("email", "opted_in") == []
    assert await store.customers.count("acme", CustomerSearch(consent={"sms": "opted_in"})) == 2
    with pytest.raises(InvalidInputError):
        await found("$where", "opted_in")
