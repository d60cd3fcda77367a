"""Customer search and the unified profile through GraphQL, over real MongoDB (and Temporal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.enrollments import Enrollment, EnrollmentStatus
from store.database import Store
from tests.api.support import TenantKeys, gql

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

SEARCH = """
query($filter: CustomerFilter, $first: Int, $after: String) {
  customers(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def _customer(store: Store, tenant: str, identity: dict[str, str], **profile: Any) -> str:
    customer, _ = await store.customers.resolve(tenant, identity, T0)
    if profile.get("tags") or profile.get("attributes"):
        await store.customers.update_profile(
            tenant,
            customer.id,
            T0,
            add_tags=profile.get("tags"),
            set_attributes=profile.get("attributes"),
        )
    if profile.get("hook"):
        await store.customers.set_first_touch_hook(tenant, customer.id, profile["hook"], T0)
    return customer.id


async def _enroll(
    store: Store,
    tenant: str,
    customer_id: str,
    journey_id: str,
    node: str,
    status: EnrollmentStatus = "active",
) -> None:
    await store.enrollments.upsert_projection(
        Enrollment(
            id=f"{tenant}:{journey_id}:{customer_id}",
            tenant_id=tenant,
            journey_id=journey_id,
            version=1,
            customer_id=customer_id,
            status=status,
            current_node=node,
            path=["start", node],
            started_at=T0,
            updated_at=T0,
            seq=1,
        )
    )


@pytest.fixture
async def people(store: Store, tenant: TenantKeys) -> dict[str, str]:
    """Four customers of the tenant with varied profiles and enrollments."""
    t = tenant.tenant_id
    ids = {
        "li": await _customer(
            store,
            t,
            {"phone": "13800000001", "wecom_external_userid": "wm-li"},
            tags=["vip", "source:douyin"],
            attributes={"city": "Shanghai", "level": 3},
            hook="douyin-ad-spring",
        ),
        "wang": await _customer(
            store,
            t,
            {"email": "Wang@Example.com"},
            tags=["source:douyin"],
            attributes={"city": "Beijing"},
            hook="store-qr",
        ),
        "zhao": await _customer(
            store, t, {"unionid": "u-zhao"}, tags=["vip"], attributes={"city": "Shanghai"}
        ),
        "qian": await _customer(store, t, {"openid": "o-qian"}),
    }
    await store.customers.set_consent(t, ids["li"], "sms", True, T0)
    await store.customers.set_consent(t, ids["li"], "email", False, T0)
    await _enroll(store, t, ids["li"], "jrn_welcome", "await_order")
    await _enroll(store, t, ids["wang"], "jrn_welcome", "await_order", "paused")
    await _enroll(store, t, ids["zhao"], "jrn_welcome", "bought", "exited")
    await _enroll(store, t, ids["qian"], "jrn_other", "await_order")
    return ids


async def _search(
    api: httpx.AsyncClient, tenant: TenantKeys, filter: dict[str, Any], **page: Any
) -> dict[str, Any]:
    data = await gql(api, tenant, SEARCH, {"filter": filter, **page}, role="viewer")
    result: dict[str, Any] = data["customers"]
    return result


def _names(result: dict[str, Any], people: dict[str, str]) -> list[str]:
    by_id = {customer_id: name for name, customer_id in people.items()}
    return [by_id[node["id"]] for node in result["nodes"]]


async def test_an_identity_finds_its_customer_with_or_without_its_kind(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    by_phone = await _search(
        api, tenant, {"identity": {"kind": "phone", "value": "+86 138-0000-0001"}}
    )
    assert _names(by_phone, people) == ["li"]
    any_channel = await _search(api, tenant, {"identity": {"value": "wm-li"}})
    assert _names(any_channel, people) == ["li"]
    # without a kind, the value is also tried as each kind would normalize it
    email_any_case = await _search(api, tenant, {"identity": {"value": "WANG@example.com"}})
    assert _names(email_any_case, people) == ["wang"]
    wrong_kind = await _search(api, tenant, {"identity": {"kind": "unionid", "value": "wm-li"}})
    assert wrong_kind["nodes"] == [] and wrong_kind["totalCount"] == 0


async def test_tags_filter_by_all_and_by_any(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    both = await _search(api, tenant, {"tags": {"all": ["vip", "source:douyin"]}})
    assert _names(both, people) == ["li"]
    either = await _search(api, tenant, {"tags": {"any": ["vip", "source:douyin"]}})
    assert _names(either, people) == ["li", "wang", "zhao"]
    assert either["totalCount"] == 3


async def test_attributes_and_hook_narrow_the_search(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    shanghai = await _search(api, tenant, {"attributes": [{"key": "city", "value": "Shanghai"}]})
    assert _names(shanghai, people) == ["li", "zhao"]
    level = await _search(
        api,
        tenant,
        {"attributes": [{"key": "city", "value": "Shanghai"}, {"key": "level", "value": 3}]},
    )
    assert _names(level, people) == ["li"]
    hooked = await _search(api, tenant, {"hook": "store-qr"})
    assert _names(hooked, people) == ["wang"]


async def test_an_attribute_value_is_data_never_an_operator(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    response = await api.post(
        "/graphql",
        json={
            "query": SEARCH,
            "variables": {"filter": {"attributes": [{"key": "level", "value": {"$gt": 0}}]}},
        },
        headers=tenant.auth("viewer"),
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"][0]["path"] == "filter.attributes.level"


async def test_journey_membership_finds_customers_at_a_node_in_a_status(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    in_journey = await _search(api, tenant, {"journey": {"journeyId": "jrn_welcome"}})
    assert sorted(_names(in_journey, people)) == ["li", "wang", "zhao"]
    assert in_journey["totalCount"] == 3
    at_node = await _search(
        api, tenant, {"journey": {"journeyId": "jrn_welcome", "nodeId": "await_order"}}
    )
    assert sorted(_names(at_node, people)) == ["li", "wang"]
    running = await _search(
        api,
        tenant,
        {"journey": {"journeyId": "jrn_welcome", "nodeId": "await_order", "status": ["ACTIVE"]}},
    )
    assert _names(running, people) == ["li"]
    with_tag = await _search(
        api, tenant, {"journey": {"journeyId": "jrn_welcome"}, "tags": {"all": ["vip"]}}
    )
    assert sorted(_names(with_tag, people)) == ["li", "zhao"]
    assert with_tag["totalCount"] is None  # documented: counting would join collections


async def test_pages_follow_relay_cursors_and_cover_every_match_once(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await _search(api, tenant, {}, first=3, after=after)
        pages += 1
        info = page["pageInfo"]
        assert info["hasPreviousPage"] == (after is not None)
        assert [e["node"]["id"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCount"] == 4
        seen += [n["id"] for n in page["nodes"]]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 2
    assert seen == list(people.values())
    # any edge's cursor resumes right after it
    first_page = await _search(api, tenant, {}, first=3)
    resumed = await _search(api, tenant, {}, first=3, after=first_page["edges"][0]["cursor"])
    assert [n["id"] for n in resumed["nodes"]] == seen[1:4]


async def test_journey_membership_pages_through_customers_in_order(
    api: httpx.AsyncClient, tenant: TenantKeys, store: Store, people: dict[str, str]
) -> None:
    more = [await _customer(store, tenant.tenant_id, {"external_id": f"m{n}"}) for n in range(5)]
    for customer_id in more:
        await _enroll(store, tenant.tenant_id, customer_id, "jrn_welcome", "await_order")
    wanted = {"journey": {"journeyId": "jrn_welcome", "nodeId": "await_order"}}
    seen: list[str] = []
    after = None
    while True:
        page = await _search(api, tenant, wanted, first=2, after=after)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted([people["li"], people["wang"], *more])


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_a_page_size_outside_1_to_100_is_a_bad_user_input_error(
    api: httpx.AsyncClient, tenant: TenantKeys, first: int
) -> None:
    response = await api.post(
        "/graphql",
        json={"query": SEARCH, "variables": {"first": first}},
        headers=tenant.auth("viewer"),
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"][0]["path"] == "first"


async def test_the_profile_unifies_identities_consent_and_first_touch(
    api: httpx.AsyncClient, tenant: TenantKeys, people: dict[str, str]
) -> None:
    query = """
    query($id: ID!) {
      customer(id: $id) {
        identities { kind value channel }
        tags attributes firstTouchHook
        consents { channel granted }
        createdAt updatedAt
        enrollments(status: [ACTIVE]) { nodes { journeyId currentNode status } }
      }
    }
    """
    data = await gql(api, tenant, query, {"id": people["li"]}, role="viewer")
    profile = data["customer"]
    assert profile["identities"] == [
        {"kind": "phone", "value": "13800000001", "channel": "sms"},
        {"kind": "wecom_external_userid", "value": "wm-li", "channel": "wecom"},
    ]
    assert sorted(profile["tags"]) == ["source:douyin", "vip"]
    assert profile["attributes"] == {"city": "Shanghai", "level": 3}
    assert profile["firstTouchHook"] == "douyin-ad-spring"
    assert profile["consents"] == [
        {"channel": "email", "granted": False},
        {"channel": "sms", "granted": True},
    ]
    assert profile["enrollments"]["nodes"] == [
        {"journeyId": "jrn_welcome", "currentNode": "await_order", "status": "ACTIVE"}
    ]
    assert profile["createdAt"] <= profile["updatedAt"]


async def test_another_tenant_finds_none_of_them(
    api: httpx.AsyncClient, other_tenant: TenantKeys, people: dict[str, str]
) -> None:
    for filter in (
        {},
        {"identity": {"value": "wm-li"}},
        {"tags": {"any": ["vip"]}},
        {"hook": "store-qr"},
        {"journey": {"journeyId": "jrn_welcome"}},
    ):
        result = await _search(api, other_tenant, filter)
        assert result["nodes"] == [], filter
        assert result["totalCount"] == 0, filter


async def test_merged_away_customers_are_left_out(
    api: httpx.AsyncClient, tenant: TenantKeys, store: Store, people: dict[str, str]
) -> None:
    # one event naming li's phone and qian's openid merges qian into li (the older)
    later = T0 + timedelta(minutes=5)
    merged, _ = await store.customers.resolve(
        tenant.tenant_id, {"phone": "13800000001", "openid": "o-qian"}, later
    )
    assert merged.id == people["li"]
    everyone = await _search(api, tenant, {})
    assert _names(everyone, people) == ["li", "wang", "zhao"]
    by_openid = await _search(api, tenant, {"identity": {"kind": "openid", "value": "o-qian"}})
    assert _names(by_openid, people) == ["li"]
