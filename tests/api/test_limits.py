"""Depth, token, alias and complexity limits, and masked unexpected errors.

The limits are checked on a small schema of their own (a recursive type, so any depth and any
nesting of pages can be asked for) with exactly the extensions the API's schema uses, and then
end to end against the API over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import strawberry
from graphql import get_introspection_query, parse
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.extensions import SchemaExtension

from api.graphql.common import MAX_PAGE_SIZE
from api.graphql.errors import INTERNAL_MESSAGE, MaskUnexpectedErrors
from api.graphql.limits import (
    HISTORY_COST,
    LIMITS,
    MAX_ALIASES,
    MAX_COMPLEXITY,
    MAX_QUERY_DEPTH,
    MAX_TOKENS,
    operation_cost,
)
from api.graphql.schema import schema as api_schema
from store.mongo import JOURNEYS
from tests.api.support import TenantKeys, gql

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SECRET = "mongodb://admin:hunter2@db.internal:27017"


@strawberry.type
class Node:
    @strawberry.field
    def child(self) -> Node:
        return Node()

    @strawberry.field
    def children(self, first: int | None = None) -> list[Node]:
        return [Node() for _ in range(min(first or 2, 3))]

    @strawberry.field
    def name(self) -> str:
        return "n"

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError(f"cannot reach {SECRET}")


@strawberry.type
class Query:
    @strawberry.field
    def root(self) -> Node:
        return Node()


class _CrashWhileExecuting(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        raise RuntimeError(f"extension failed near {SECRET}")
        yield  # a generator hook, as strawberry expects


limited = strawberry.Schema(query=Query, extensions=[MaskUnexpectedErrors, *LIMITS])
crashing = strawberry.Schema(
    query=Query, extensions=[MaskUnexpectedErrors, *LIMITS, _CrashWhileExecuting]
)


def _nested(depth: int) -> str:
    """A query whose deepest field is `depth` levels down (`root` is level 1)."""
    return "{ root " + "{ child " * (depth - 2) + "{ name }" + " }" * (depth - 2) + " }"


async def _errors(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = await limited.execute(query, variable_values=variables)
    return [dict(error.formatted) for error in result.errors or ()]


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in errors]


async def test_a_query_at_the_depth_limit_runs_and_one_deeper_is_refused() -> None:
    assert await _errors(_nested(MAX_QUERY_DEPTH)) == []
    errors = await _errors(_nested(MAX_QUERY_DEPTH + 2))
    assert _codes(errors) == ["QUERY_TOO_DEEP"]
    assert str(MAX_QUERY_DEPTH) in errors[0]["message"]


async def test_the_standard_introspection_query_passes_every_limit() -> None:
    assert await _errors(get_introspection_query(descriptions=True)) == []


async def test_introspection_nested_through_type_lists_is_refused() -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert _codes(await _errors(query)) == ["QUERY_TOO_DEEP"]


async def test_aliases_up_to_the_limit_run_and_one_more_is_refused() -> None:
    def aliased(count: int) -> str:
        return "{ root { " + " ".join(f"a{i}: name" for i in range(count)) + " } }"

    assert await _errors(aliased(MAX_ALIASES)) == []
    errors = await _errors(aliased(MAX_ALIASES + 1))
    assert _codes(errors) == ["TOO_MANY_ALIASES"]


async def test_a_document_over_the_token_limit_is_refused_before_parsing_ends() -> None:
    fields = " ".join(["name"] * MAX_TOKENS)
    errors = await _errors("{ root { " + fields + " } }")
    assert _codes(errors) == ["QUERY_TOO_LARGE"]
    assert errors[0]["extensions"]["maxTokens"] == MAX_TOKENS


async def test_comments_count_towards_the_token_limit() -> None:
    comments = "\n".join(["# padding"] * MAX_TOKENS)
    errors = await _errors("{ root { name } }\n" + comments)
    assert _codes(errors) == ["QUERY_TOO_LARGE"]


async def test_nested_pages_are_priced_by_their_page_sizes() -> None:
    # 1 (root) + 1 (children) + 100 x (1 (children) + 100 x 1 (name)) = 10_102
    query = "{ root { children(first: 100) { children(first: 100) { name } } } }"
    errors = await _errors(query)
    assert _codes(errors) == ["QUERY_TOO_COMPLEX"]
    assert errors[0]["extensions"]["cost"] == 10_102 > MAX_COMPLEXITY
    assert errors[0]["extensions"]["maxCost"] == MAX_COMPLEXITY
    assert await _errors("{ root { children(first: 10) { children(first: 10) { name } } } }") == []


async def test_page_sizes_given_as_variables_are_priced_as_asked_and_capped() -> None:
    query = "query($n: Int) { root { children(first: $n) { children(first: $n) { name } } } }"
    assert await _errors(query, {"n": 10}) == []
    assert _codes(await _errors(query, {"n": 100})) == ["QUERY_TOO_COMPLEX"]
    document = parse(query)
    capped = operation_cost(limited._schema, document, None, {"n": 100_000})
    assert capped == operation_cost(limited._schema, document, None, {"n": MAX_PAGE_SIZE})


def test_fragments_are_priced_once_however_often_they_are_spread() -> None:
    # Each fragment spreads the next one twice: pricing spread by spread would take 2^40 steps.
    levels = 40
    fragments = "\n".join(
        f"fragment F{i} on Node {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    document = parse(f"{{ root {{ ...F0 }} }}\n{fragments}\nfragment F{levels} on Node {{ name }}")
    assert operation_cost(limited._schema, document) == 1 + 2**levels


def test_the_documented_example_costs_what_the_docs_say() -> None:
    document = parse("{ customers(first: 100) { nodes { id tags } } }")
    assert operation_cost(api_schema._schema, document) == 301


async def test_an_unexpected_resolver_error_is_masked_with_a_code_and_no_trace() -> None:
    result = await limited.execute("{ root { name broken } }")
    assert result.data is None or result.data["root"] is None
    [error] = [e.formatted for e in result.errors or ()]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error)
    assert "Traceback" not in str(error)


async def test_an_error_outside_any_resolver_is_masked_too() -> None:
    result = await crashing.execute("{ root { name } }")
    [error] = [e.formatted for e in result.errors or ()]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error)


# Over HTTP, against the API's own schema.


async def _post(api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any]) -> httpx.Response:
    return await api.post(
        "/graphql", json=body, headers={**tenant.auth("viewer"), "Accept": GRAPHQL_RESPONSE_JSON}
    )


async def test_a_page_of_100_customers_with_identities_tags_and_enrollments_is_allowed(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = """
    {
      customers(first: 100) {
        nodes {
          id tags attributes
          identities { kind value }
          enrollments(first: 10) { nodes { id journeyId status currentNode } }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    assert operation_cost(api_schema._schema, parse(query)) <= MAX_COMPLEXITY
    data = await gql(api, tenant, query, role="viewer")
    assert data["customers"]["nodes"] == []


async def test_an_over_complex_operation_is_a_400_request_error_over_http(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = """
    {
      customers(first: 100) {
        nodes { enrollments(first: 100) { nodes { transitions(first: 100) { nodes { at } } } } }
      }
    }
    """
    response = await _post(api, tenant, {"query": query})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]


async def test_limit_violations_over_http_carry_their_codes(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }"
    tokens = "{ " + " ".join(["__typename"] * (MAX_TOKENS + 1)) + " }"
    for query, code in ((aliases, "TOO_MANY_ALIASES"), (tokens, "QUERY_TOO_LARGE")):
        response = await _post(api, tenant, {"query": query})
        assert response.status_code == 400, code
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]


async def test_a_corrupt_record_answers_a_masked_internal_error_over_http(
    api: httpx.AsyncClient, tenant: TenantKeys, mongo_db: AsyncDatabase[dict[str, Any]]
) -> None:
    await mongo_db[JOURNEYS].insert_one(
        {"_id": "jrn_corrupt", "tenant_id": tenant.tenant_id, "name": 7, "draft": SECRET}
    )
    response = await _post(api, tenant, {"query": '{ journey(id: "jrn_corrupt") { id } }'})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"journey": None}
    assert body["errors"][0]["message"] == INTERNAL_MESSAGE
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_the_api_answers_the_standard_introspection_query(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await _post(api, tenant, {"query": get_introspection_query(descriptions=True)})
    body = response.json()
    failed = [(error.get("path"), error["message"]) for error in body.get("errors", [])]
    assert failed == [], "the introspection query failed at these paths"
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


HISTORY_SELECTION = "history { __typename ... on EnrollmentHistory { steps { kind } } }"


def test_one_enrollments_history_is_within_the_limit_and_a_page_of_them_is_not() -> None:
    one = parse(f'{{ enrollment(id: "e") {{ id {HISTORY_SELECTION} }} }}')
    assert operation_cost(api_schema._schema, one) <= MAX_COMPLEXITY
    page = parse(f"{{ enrollments(first: 100) {{ nodes {{ id {HISTORY_SELECTION} }} }} }}")
    assert operation_cost(api_schema._schema, page) > 100 * HISTORY_COST > MAX_COMPLEXITY
    # the same through a customer's enrollments
    nested = parse(
        f'{{ customer(id: "c") {{ enrollments(first: 20) {{ nodes {{ {HISTORY_SELECTION} }} }} }} }}'
    )
    assert operation_cost(api_schema._schema, nested) > MAX_COMPLEXITY


async def test_a_page_of_enrollment_histories_is_refused_with_the_complexity_code(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = f"{{ enrollments(first: 100) {{ nodes {{ id {HISTORY_SELECTION} }} }} }}"
    response = await api.post("/graphql", json={"query": query}, headers=tenant.auth("viewer"))
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "data" not in response.json()

    one = f'{{ enrollment(id: "{tenant.tenant_id}:j:c") {{ id {HISTORY_SELECTION} }} }}'
    assert (await gql(api, tenant, one, role="viewer")) == {"enrollment": None}
