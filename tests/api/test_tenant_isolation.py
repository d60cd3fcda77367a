"""A key of one tenant sees nothing of another's records, through any field.

The generic probe (`test_no_field_lets_another_tenant_read_or_write_a_tenants_records`) calls
every top-level field listed in `tests/api/field_coverage.py` with the seeded tenant's ids and
another tenant's key; `test_every_top_level_field_has_a_scope_decision` makes every new field
need an entry there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from store.database import Store
from tests.api.field_coverage import MUTATIONS, QUERIES, SUBSCRIPTIONS, Elsewhere, Read
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, UPDATE_JOURNEY, welcome_journey
from tests.api.scope_probe import (
    call,
    counts,
    reads,
    root_fields,
    secrets_in,
    seed,
    served_schema,
)
from tests.api.support import TenantKeys, event, gql, post_events, project_enrollment


async def test_another_tenant_sees_none_of_a_tenants_records(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    created = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "A", "definition": welcome_journey()}}
    )
    journey_id = created["createJourney"]["id"]
    ingested = await post_events(
        api, tenant, [event("a1", "lead.captured", {"phone": "13700000000"})]
    )
    customer_id = ingested["results"][0]["customer_id"]
    now = datetime.now(UTC)
    enrollment_id = await project_enrollment(store, tenant.tenant_id, journey_id, customer_id, now)
    reads = """
    query($j: ID!, $c: ID!, $e: ID!) {
      journey(id: $j) { id }
      customer(id: $c) { id }
      customerByIdentity(kind: "phone", value: "13700000000") { id }
      enrollment(id: $e) { id }
      journeys { nodes { id } }
      customers { nodes { id } }
      enrollments { nodes { id } }
    }
    """
    variables = {"j": journey_id, "c": customer_id, "e": enrollment_id}
    mine = await gql(api, tenant, reads, variables)
    assert mine["journey"] == {"id": journey_id}
    assert mine["enrollment"] == {"id": enrollment_id}
    theirs = await gql(api, other_tenant, reads, variables)
    assert theirs == {
        "journey": None,
        "customer": None,
        "customerByIdentity": None,
        "enrollment": None,
        "journeys": {"nodes": []},
        "customers": {"nodes": []},
        "enrollments": {"nodes": []},
    }

    writes = [
        (PUBLISH_JOURNEY, {"id": journey_id}, "publishJourney"),
        (
            UPDATE_JOURNEY,
            {"id": journey_id, "rev": 1, "definition": welcome_journey()},
            "updateJourney",
        ),
    ]
    for query, args, field in writes:
        data = await gql(api, other_tenant, query, args)
        assert data[field]["__typename"] == "NotFound", field
    cancel = "mutation($e: ID!) { cancelEnrollment(id: $e) { __typename } }"
    data = await gql(api, other_tenant, cancel, {"e": enrollment_id})
    assert data["cancelEnrollment"]["__typename"] == "NotFound"
    enroll = "mutation($j: ID!, $c: ID!) { enrollCustomer(journeyId: $j, customerId: $c) { __typename } }"
    data = await gql(api, other_tenant, enroll, {"j": journey_id, "c": customer_id})
    assert data["enrollCustomer"]["__typename"] == "NotFound"


async def test_the_same_event_id_in_two_tenants_is_two_events(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    identity = {"phone": "13700000001"}
    mine = await post_events(api, tenant, [event("shared", "order.paid", identity)])
    theirs = await post_events(api, other_tenant, [event("shared", "order.paid", identity)])
    assert mine["results"][0]["status"] == theirs["results"][0]["status"] == "accepted"
    assert mine["results"][0]["customer_id"] != theirs["results"][0]["customer_id"]


def test_every_top_level_field_has_a_scope_decision() -> None:
    schema = served_schema()
    tables: dict[str, dict[str, Any]] = {
        "query": QUERIES,
        "mutation": MUTATIONS,
        "subscription": SUBSCRIPTIONS,
    }
    for root, table in tables.items():
        fields = root_fields(schema, root)  # type: ignore[arg-type]
        undecided = sorted(fields - set(table))
        assert undecided == [], (
            f"{root} field(s) {undecided} have no entry in tests/api/field_coverage.py: "
            "say how to call them and what another tenant must get"
        )
        gone = sorted(set(table) - fields)
        assert gone == [], f"tests/api/field_coverage.py lists {root} field(s) {gone} that are gone"


def _foreign_problem(case: Read, theirs: Any, mine: Any) -> str | None:
    """Why another tenant's answer `theirs` breaks `case.foreign`, or None."""
    expected = case.foreign
    if expected == "null" and theirs is not None:
        return "expected null"
    if expected == "empty":
        items = theirs.get("nodes", theirs.get("edges")) if isinstance(theirs, dict) else theirs
        if items != []:
            return "expected an empty list"
    if expected == "not_found" and theirs is not None and theirs.get("__typename") != "NotFound":
        return "expected NotFound or null"
    if expected == "zero" and any(number != 0 for number in counts(theirs)):
        return "expected only zero counts"
    if expected == "same" and theirs != mine:
        return "expected the same answer as the owner's"
    return None


async def test_no_field_lets_another_tenant_read_or_write_a_tenants_records(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    owner = await seed(api, store, tenant)
    schema = served_schema()
    stranger = other_tenant.keys["admin"]
    problems: list[str] = []

    before = await reads(api, schema, owner, tenant.keys["admin"])
    for name, mine in before.items():
        case = QUERIES[name]
        assert isinstance(case, Read)
        if "errors" in mine:
            problems.append(f"query {name}: the owner's call failed: {mine['errors']}")
        if case.sees_seed and not secrets_in(mine, owner):
            problems.append(f"query {name}: the owner's answer does not show the seeded records")
        theirs = await call(api, schema, "query", name, case, owner.refs, stranger)
        if "errors" in theirs:
            problems.append(f"query {name}: another tenant's call failed: {theirs['errors']}")
            continue
        if leaked := secrets_in(theirs, owner, case.echoes):
            problems.append(f"query {name}: another tenant sees {leaked}")
        why = _foreign_problem(case, theirs["data"][name], mine.get("data", {}).get(name))
        if why:
            problems.append(f"query {name}: {why}, got {theirs['data'][name]}")

    mutations = root_fields(schema, "mutation")
    for name, write in MUTATIONS.items():
        if isinstance(write, Elsewhere) or name not in mutations:
            continue
        theirs = await call(api, schema, "mutation", name, write, owner.refs, stranger)
        if "errors" in theirs:
            problems.append(f"mutation {name}: another tenant's call failed: {theirs['errors']}")
            continue
        result = theirs["data"][name]
        if leaked := secrets_in(theirs, owner):
            problems.append(f"mutation {name}: another tenant sees {leaked}")
        if write.foreign == "not_found" and result["__typename"] != "NotFound":
            problems.append(f"mutation {name}: expected NotFound, got {result}")
        if write.foreign == "own_tenant" and result["__typename"] == "Forbidden":
            problems.append(f"mutation {name}: an admin key was refused: {result}")

    after = await reads(api, schema, owner, tenant.keys["admin"])
    for name, answer in after.items():
        if answer != before[name]:
            problems.append(
                f"query {name}: the owner's records changed after another tenant's writes"
            )
    assert problems == [], "\n".join(problems)
