"""GraphQL over HTTP: the `graphql-http` audit suite against the live server, and the answers
the spec asks for (media types, status codes, refusals) checked one by one."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.graphql.over_http import MAX_BODY_BYTES, response_media_type
from connectors.registry import ConnectorRegistry
from store.database import Store
from tests.api.live_server import serving
from tests.api.support import TenantKeys

AUDIT_DIR = Path(__file__).parent / "audit"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
AUDIT_TIMEOUT_SECONDS = 120


@pytest.fixture
async def live_graphql_url(
    store: Store, temporal_env: WorkflowEnvironment, registry: ConnectorRegistry
) -> AsyncIterator[str]:
    """The real app on uvicorn at 127.0.0.1 on a free port; its `/graphql` URL."""
    async with serving(create_app(store, temporal_env.client, registry)) as port:
        yield f"http://127.0.0.1:{port}/graphql"


async def test_the_graphql_http_audit_suite_passes_with_no_warning(
    live_graphql_url: str, tenant: TenantKeys
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the graphql-http audit suite needs it")
    assert (AUDIT_DIR / "node_modules" / "graphql-http").is_dir(), (
        "graphql-http is not installed: run `npm ci --no-audit --no-fund` in tests/api/audit "
        "(`make test` does)"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GRAPHQL_URL": live_graphql_url,
        "GRAPHQL_AUTHORIZATION": tenant.auth("viewer")["Authorization"],
    }
    process = await asyncio.create_subprocess_exec(
        node,
        "run_audit.mjs",
        cwd=AUDIT_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), AUDIT_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    results = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    assert process.returncode in (0, 1), stderr.decode()
    not_ok = [result for result in results if result["status"] != "ok"]
    assert not_ok == [], json.dumps(not_ok, indent=2)
    assert len(results) >= 60, f"only {len(results)} audits ran"
    assert process.returncode == 0


def _post(
    tenant: TenantKeys, body: Any, accept: str | None = None, content_type: str | None = None
) -> dict[str, Any]:
    headers = dict(tenant.auth("viewer"))
    if accept is not None:
        headers["Accept"] = accept
    headers["Content-Type"] = content_type or "application/json"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {"content": content, "headers": headers}


async def test_graphql_response_json_is_answered_in_kind(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/graphql", **_post(tenant, {"query": "{ __typename }"}, accept=GRAPHQL_RESPONSE_JSON)
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_validation_error_is_400_without_data_under_graphql_response_json(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"query": "{ noSuchField }"}
    response = await api.post("/graphql", **_post(tenant, body, accept=GRAPHQL_RESPONSE_JSON))
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_validation_error_is_200_without_data_under_application_json(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"query": "{ noSuchField }"}
    response = await api.post("/graphql", **_post(tenant, body, accept="application/json"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "data" not in response.json()


async def test_a_parse_error_and_a_variable_coercion_error_carry_their_codes(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    parse = await api.post(
        "/graphql", **_post(tenant, {"query": "{"}, accept=GRAPHQL_RESPONSE_JSON)
    )
    assert parse.status_code == 400
    assert parse.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    coercion = {"query": "query($id: ID!) { journey(id: $id) { id } }", "variables": {"id": None}}
    coerced = await api.post("/graphql", **_post(tenant, coercion, accept=GRAPHQL_RESPONSE_JSON))
    assert coerced.status_code == 400
    assert "data" not in coerced.json()
    assert coerced.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_mutation_over_get_is_405_and_names_post(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.get(
        "/graphql",
        params={"query": 'mutation { archiveJourney(id: "j") { __typename } }'},
        headers={**tenant.auth("admin"), "Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_query_over_get_is_answered(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await api.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={**tenant.auth("viewer"), "Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_an_unacceptable_accept_header_is_406(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"query": "{ __typename }"}
    response = await api.post("/graphql", **_post(tenant, body, accept="text/plain"))
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_body_that_is_not_json_is_415(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    body = b"query { __typename }"
    for content_type in ("application/graphql", "text/plain", "application/json; charset=latin1"):
        response = await api.post("/graphql", **_post(tenant, body, content_type=content_type))
        assert response.status_code == 415, content_type
        assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_body_over_the_limit_is_413(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    padding = "#" * (MAX_BODY_BYTES + 1)
    response = await api.post("/graphql", **_post(tenant, {"query": "{ __typename }" + padding}))
    assert response.status_code == 413


async def test_malformed_parameters_are_400_with_a_json_error(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    bodies: list[Any] = [
        {"query": "{ __typename }", "operationName": {"obj": "ect"}},
        {"query": "{ __typename }", "variables": "string"},
        {"notquery": "{ __typename }"},
        [{"query": "{ __typename }"}, {"query": "{ __typename }"}],  # batching is off
    ]
    for body in bodies:
        response = await api.post("/graphql", **_post(tenant, body, accept=GRAPHQL_RESPONSE_JSON))
        assert response.status_code == 400, body
        assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    broken = await api.post("/graphql", **_post(tenant, b'{ "not a JSON'))
    assert broken.status_code == 400


async def test_a_subscription_over_http_is_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/graphql", **_post(tenant, {"query": "subscription { __typename }"}, accept="*/*")
    )
    assert response.status_code in (400, 405)
    assert "errors" in response.json()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", "application/json"),
        (f"text/html, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        ("text/html", None),
        ("application/json;q=0", None),
    ],
)
def test_the_response_media_type_follows_the_accept_header(
    accept: str | None, expected: str | None
) -> None:
    assert response_media_type(accept) == expected


async def test_methods_other_than_get_and_post_are_405(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.put("/graphql", **_post(tenant, {"query": "{ __typename }"}))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
