"""Calling every top-level field generically, from the schema as introspection shows it.

A tenant is seeded with one record of each kind (`seed`); `call` builds an operation for any
field from `tests/api/field_coverage.py`'s arguments and a selection of every field reachable
within a few levels (so whatever a resolver returns is read back), and runs it with a given key.
`secrets_in` finds the seeded tenant's ids and names in an answer, ignoring `NotFound` and
`Forbidden` results, which echo the id they were asked about.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from graphql import (
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)

from api.graphql.schema import schema as api_schema
from domain.events import Event
from domain.hooks import Hook
from store.database import Store
from store.operations import BulkOperation
from tests.api.field_coverage import QUERIES, Read, Write
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, event, gql, post_events, project_enrollment

Root = Literal["query", "mutation"]

MAX_SELECTION_DEPTH = 3
ECHO_TYPES = frozenset({"NotFound", "Forbidden"})
ID_ARGUMENTS = {
    "journeyId": "$journey",
    "customerId": "$customer",
    "enrollmentId": "$enrollment",
    "hookId": "$hook",
    "operationId": "$operation",
}


@dataclass(frozen=True)
class Seeded:
    """A tenant with one record of each kind: `refs` by kind (`journey`, `phone`...), and
    `markers`, strings only this tenant's records contain."""

    tenant: TenantKeys
    refs: dict[str, str]
    markers: tuple[str, ...]

    @property
    def secrets(self) -> tuple[str, ...]:
        return (*self.refs.values(), *self.markers)


async def seed(api: httpx.AsyncClient, store: Store, tenant: TenantKeys) -> Seeded:
    """A published journey, a customer, an enrollment, a hook, a bulk operation, WeCom settings,
    e-mail settings, an API key, a dead letter."""
    label = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    created = await gql(
        api,
        tenant,
        CREATE_JOURNEY,
        {"input": {"name": f"journey-{label}", "definition": welcome_journey()}},
    )
    journey_id = created["createJourney"]["id"]
    published = await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id})
    assert published["publishJourney"]["__typename"] == "Journey", published
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    ingested = await post_events(
        api, tenant, [event(f"seed-{label}", "lead.captured", {"phone": phone})]
    )
    customer_id = ingested["results"][0]["customer_id"]
    enrollment_id = await project_enrollment(store, tenant.tenant_id, journey_id, customer_id, now)
    hook = await store.hooks.insert(
        Hook(
            id=f"hook_{label}",
            tenant_id=tenant.tenant_id,
            name=f"hook-{label}",
            kind="contact_way",
            state=f"s{label}",
            config_id=f"cfg-{label}",
            qr_code=f"https://qr.invalid/{label}.png",
            created_at=now,
            updated_at=now,
        )
    )
    operation = await store.operations.create(
        BulkOperation(
            id=f"op_{label}",
            tenant_id=tenant.tenant_id,
            kind="pause",
            journey_id=journey_id,
            status="succeeded",
            created_by="seed",
            created_at=now,
            finished_at=now,
        )
    )
    settings = {
        "corpId": f"corp-{label}",
        "secret": f"secret-{label}",
        "callbackToken": f"token{label}",
        "encodingAesKey": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    }
    configured = await gql(
        api,
        tenant,
        "mutation($input: ConfigureWeComInput!) { configureWeCom(input: $input) { __typename } }",
        {"input": settings},
    )
    assert configured["configureWeCom"]["__typename"] == "WeComSettings", configured
    email = await gql(
        api,
        tenant,
        "mutation($input: ConfigureEmailInput!) { configureEmail(input: $input) { __typename } }",
        {"input": {"host": f"smtp-{label}.example", "port": 587, "fromAddress": "n@b.example"}},
    )
    assert email["configureEmail"]["__typename"] == "EmailSettings", email
    api_key, _ = await store.tenants.create_api_key(tenant.tenant_id, f"key-{label}", "viewer", now)
    parked = Event(
        id=f"parked-{label}",
        tenant_id=tenant.tenant_id,
        customer_id=customer_id,
        type="lead.captured",
        identity={"phone": phone},
        timestamp=now,
        received_at=now,
    )
    await store.events.insert(parked)
    await store.events.record_failure(tenant.tenant_id, parked.id, "RuntimeError", now, _park)
    refs = {
        "apiKey": api_key.id,
        "deadLetter": parked.id,
        "journey": journey_id,
        "customer": customer_id,
        "enrollment": enrollment_id,
        "hook": hook.id,
        "operation": operation.id,
        "phone": phone,
    }
    markers = (
        f"journey-{label}",
        f"hook-{label}",
        f"corp-{label}",
        f"key-{label}",
        f"smtp-{label}.example",
    )
    return Seeded(tenant, refs, markers)


def _park(attempts: int) -> None:
    """A backoff that parks at the first failure."""
    return None


def served_schema() -> GraphQLSchema:
    """The schema `/graphql` serves, as graphql-core's type system describes it.

    (Read in-process rather than through an introspection query, so that these tests depend on
    nothing but the fields themselves; `tests/api/test_limits.py` runs the introspection query.)
    """
    return api_schema._schema


def root_fields(
    schema: GraphQLSchema, root: Literal["query", "mutation", "subscription"]
) -> set[str]:
    """The names of a root type's fields (none when the schema has no such root)."""
    root_type = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[root]
    return set() if root_type is None else set(root_type.fields)


def _fill(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return refs[value[1:]]
    if isinstance(value, dict):
        return {key: _fill(item, refs) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, refs) for item in value]
    return value


def build_call(
    schema: GraphQLSchema, root: Root, name: str, case: Read | Write, refs: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """An operation calling `name` with `case`'s arguments, selecting what it returns."""
    root_type = schema.query_type if root == "query" else schema.mutation_type
    assert root_type is not None
    field = root_type.fields[name]
    given = dict(case.args)
    definitions, uses, variables = [], [], {}
    for index, (arg_name, arg) in enumerate(field.args.items()):
        if arg_name not in given and is_non_null_type(arg.type) and arg.default_value is Undefined:
            assert arg_name in ID_ARGUMENTS, (
                f"{root} field {name!r}: give a value for its required argument {arg_name!r} "
                "in tests/api/field_coverage.py"
            )
            given[arg_name] = ID_ARGUMENTS[arg_name]
        if arg_name in given:
            definitions.append(f"$a{index}: {arg.type}")
            uses.append(f"{arg_name}: $a{index}")
            variables[f"a{index}"] = _fill(given[arg_name], refs)
    unknown = set(given) - set(field.args)
    assert not unknown, f"{root} field {name!r} has no argument(s) {sorted(unknown)}"
    header = f"{root}({', '.join(definitions)})" if definitions else root
    arguments = f"({', '.join(uses)})" if uses else ""
    selection = _selection(schema, get_named_type(field.type), 1)
    selected = f" {{ {selection} }}" if selection else ""
    return f"{header} {{ {name}{arguments}{selected} }}", variables


def _selection(schema: GraphQLSchema, named: GraphQLNamedType, depth: int) -> str:
    if is_leaf_type(named):
        return ""
    if is_abstract_type(named):
        members = schema.get_possible_types(named)
        shapes: dict[str, set[str]] = {}
        for member in members:
            for field_name, field in member.fields.items():
                shapes.setdefault(field_name, set()).add(str(field.type))
        # Same-named fields of different types in two members may not share a response name.
        clashing = {field_name for field_name, types in shapes.items() if len(types) > 1}
        fragments = [
            f"... on {member.name} {{ {_fields(schema, member, depth, clashing)} }}"
            for member in members
        ]
        return " ".join(["__typename", *fragments])
    assert is_object_type(named)
    return _fields(schema, named, depth, set())


def _fields(schema: GraphQLSchema, owner: GraphQLObjectType, depth: int, clashing: set[str]) -> str:
    parts = ["__typename"]
    for field_name, field in owner.fields.items():
        if any(
            is_non_null_type(arg.type) and arg.default_value is Undefined
            for arg in field.args.values()
        ):
            continue
        named = get_named_type(field.type)
        alias = f"{owner.name}_{field_name}: " if field_name in clashing else ""
        if is_leaf_type(named):
            parts.append(f"{alias}{field_name}")
        elif depth < MAX_SELECTION_DEPTH:
            parts.append(f"{alias}{field_name} {{ {_selection(schema, named, depth + 1)} }}")
    return " ".join(parts)


async def call(
    api: httpx.AsyncClient,
    schema: GraphQLSchema,
    root: Root,
    name: str,
    case: Read | Write,
    refs: dict[str, str],
    key: str,
) -> dict[str, Any]:
    """Run the call with the raw API key `key`; the whole GraphQL response."""
    query, variables = build_call(schema, root, name, case, refs)
    response = await api.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
    )
    assert response.status_code == 200, f"{name}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("__typename") in ECHO_TYPES:
            return
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def secrets_in(answer: Any, seeded: Seeded, echoes: tuple[str, ...] = ()) -> list[str]:
    """The seeded tenant's ids and names found in `answer`, outside NotFound/Forbidden results
    and apart from the refs named in `echoes` (passed in, so repeated back)."""
    echoed = {seeded.refs[kind] for kind in echoes}
    secrets = [secret for secret in seeded.secrets if secret not in echoed]
    return sorted({secret for text in _strings(answer) for secret in secrets if secret in text})


# Numbers that are parameters of a measure, not counts of anything.
NOT_COUNTS = frozenset({"day", "days", "version"})


def counts(value: Any) -> Iterator[float]:
    """Every number in a JSON value, except those under NOT_COUNTS keys."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_COUNTS:
                yield from counts(item)
    elif isinstance(value, list):
        for item in value:
            yield from counts(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


async def reads(
    api: httpx.AsyncClient, schema: GraphQLSchema, seeded: Seeded, key: str
) -> dict[str, Any]:
    """Every query of the coverage table called about `seeded`'s records with `key`, by name."""
    fields = root_fields(schema, "query")
    answers = {}
    for name, case in QUERIES.items():
        if isinstance(case, Read) and name in fields:
            answers[name] = await call(api, schema, "query", name, case, seeded.refs, key)
    return answers
