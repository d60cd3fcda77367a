"""Roles, field by field: every mutation refuses the roles its permission excludes (with
`Forbidden`, changing nothing), and every role may run every query.

The fields and the permission each mutation needs come from `tests/api/field_coverage.py`;
`tests/api/test_tenant_isolation.py` makes sure every field of the schema is listed there.
"""

from __future__ import annotations

from typing import Literal

import httpx

from api.auth import ROLE_PERMISSIONS, Permission
from store.database import Store
from tests.api.field_coverage import MUTATIONS, QUERIES, Read, Write
from tests.api.scope_probe import call, reads, root_fields, seed, served_schema
from tests.api.support import ROLES, TenantKeys


def _allowed(role: str, permission: Permission | Literal["admin"]) -> bool:
    if permission == "admin":
        return role == "admin"
    return permission in ROLE_PERMISSIONS[role]  # type: ignore[index]


def test_the_roles_are_as_documented() -> None:
    assert _allowed("designer", Permission.EDIT_JOURNEYS)
    assert not _allowed("designer", Permission.MANAGE_ENROLLMENTS)
    assert not _allowed("designer", Permission.INGEST_EVENTS)
    assert _allowed("operator", Permission.MANAGE_ENROLLMENTS)
    assert _allowed("operator", Permission.INGEST_EVENTS)
    assert _allowed("operator", Permission.MANAGE_CUSTOMERS)
    assert not _allowed("designer", Permission.MANAGE_CUSTOMERS)
    assert not _allowed("operator", Permission.EDIT_JOURNEYS)
    assert not any(
        _allowed("viewer", permission) for permission in Permission if permission != "read"
    )
    assert [role for role in ROLES if _allowed(role, "admin")] == ["admin"]


async def test_every_mutation_refuses_the_roles_its_permission_excludes(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    owner = await seed(api, store, tenant)
    schema = served_schema()
    before = await reads(api, schema, owner, tenant.keys["admin"])
    mutations = root_fields(schema, "mutation")
    problems: list[str] = []
    refused = 0
    for name, write in MUTATIONS.items():
        if not isinstance(write, Write) or name not in mutations:
            continue
        for role in ROLES:
            if _allowed(role, write.permission):
                continue
            answer = await call(api, schema, "mutation", name, write, owner.refs, tenant.keys[role])
            result = (answer.get("data") or {}).get(name) or {}
            if result.get("__typename") != "Forbidden":
                problems.append(f"{name} as {role}: expected Forbidden, got {answer}")
                continue
            refused += 1
            required = str(write.permission)
            if result.get("requiredPermission") != required:
                problems.append(f"{name} as {role}: Forbidden should name {required}: {result}")
    after = await reads(api, schema, owner, tenant.keys["admin"])
    problems += [
        f"query {name}: the records changed after refused writes"
        for name, answer in after.items()
        if answer != before[name]
    ]
    assert problems == [], "\n".join(problems)
    assert refused > 0


async def test_every_role_may_run_every_query(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    owner = await seed(api, store, tenant)
    schema = served_schema()
    as_admin = await reads(api, schema, owner, tenant.keys["admin"])
    for role in ("designer", "operator", "viewer"):
        answers = await reads(api, schema, owner, tenant.keys[role])
        for name, answer in answers.items():
            case = QUERIES[name]
            assert isinstance(case, Read)
            if case.admin_only:
                assert answer == {"data": {name: None}}, f"{name} as {role}: {answer}"
            else:
                assert answer == as_admin[name], f"{name}: {role} gets another answer than admin"
