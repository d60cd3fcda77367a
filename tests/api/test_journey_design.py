"""Designing journeys through GraphQL: typed inputs, validation reports, duplicates, archive,
version history, diagrams with live counts and diffs between versions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx

from domain.enrollments import Enrollment, EnrollmentStatus
from domain.templates import canonical_journey
from store.database import Store
from tests.api.journeys import CREATE_JOURNEY, PUBLISH_JOURNEY, UPDATE_JOURNEY, welcome_journey
from tests.api.support import TenantKeys, gql

CREATE_TYPED = """
mutation($name: String!, $typed: JourneyDefinitionInput!) {
  createJourney(input: {name: $name, typedDefinition: $typed}) {
    __typename
    ... on Journey { id draft problems { code nodeId } }
    ... on ValidationFailed { problems { code nodeId path } }
    ... on InvalidInput { errors { path message } }
  }
}
"""

VALIDATE = """
query($source: JourneyDefinitionSource!) {
  validateJourney(source: $source) {
    __typename
    ... on ValidationReport { valid problems { code nodeId message path } }
    ... on NotFound { kind id }
  }
}
"""

DUPLICATE = """
mutation($id: ID!, $name: String!) {
  duplicateJourney(id: $id, name: $name) {
    __typename
    ... on Journey { id name description status draft latestVersion versions { version } }
    ... on NotFound { kind }
    ... on InvalidInput { errors { path message } }
    ... on Forbidden { requiredPermission }
  }
}
"""


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _where(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (v.upper() if k == "op" else v) for k, v in c.items() if v is not None}
        for c in conditions
    ]


def _fact(condition: dict[str, Any]) -> dict[str, Any]:
    kind = condition["type"]
    if kind in ("attribute", "last_event"):
        return {_camel(kind): _where([condition["where"]])[0]}
    return {kind: {k: v for k, v in condition.items() if k != "type"}}


def _typed_value(key: str, value: Any) -> Any:
    if key in ("where",):
        return _where(value)
    if key == "trigger":
        kind = value["type"]
        if kind == "manual":
            return {"manual": True}
        fields = {_camel(k): _typed_value(k, v) for k, v in value.items() if k != "type"}
        return {kind: fields}
    if key == "reentry":
        return {_camel(k): (v.upper() if k == "mode" else v) for k, v in value.items() if v}
    if key == "rules":
        return [{"id": r["id"], "conditions": [_fact(c) for c in r["conditions"]]} for r in value]
    if key == "until":
        return {_camel(k): v for k, v in value.items()}
    return value  # scalars, lists of strings, and JSON objects (params, set_attributes)


def typed(definition: dict[str, Any]) -> dict[str, Any]:
    """The typed-input form of a JSON definition, written independently of the API's converter."""
    nodes = []
    for node in definition["nodes"]:
        fields = {
            _camel(k): _typed_value(k, v) for k, v in node.items() if k != "kind" and v is not None
        }
        nodes.append({_camel(node["kind"]): fields})
    settings = definition.get("settings", {})
    typed_settings: dict[str, Any] = {}
    for key, value in settings.items():
        if value is None:
            continue
        if key == "exit_triggers":
            value = [
                {"eventType": t["event_type"], "reason": t["reason"], "where": _where(t["where"])}
                for t in value
            ]
        typed_settings[_camel(key)] = value
    return {
        "nodes": nodes,
        "edges": [dict(edge) for edge in definition["edges"]],
        "settings": typed_settings,
    }


def branching_journey() -> dict[str, Any]:
    """Every node kind, every trigger and fact condition kind, in a valid journey."""
    return {
        "nodes": [
            {
                "kind": "entry",
                "id": "start",
                "name": "Lead captured",
                "trigger": {
                    "type": "event",
                    "event_type": "lead.captured",
                    "where": [{"path": "source", "op": "in", "value": ["douyin", "xhs"]}],
                },
                "reentry": {"mode": "concurrent", "entry_key": "lead_id"},
            },
            {
                "kind": "update_profile",
                "id": "tag",
                "add_tags": ["lead"],
                "remove_tags": ["cold"],
                "set_attributes": {"tier": {"level": 2}},
                "unset_attributes": ["old"],
            },
            {
                "kind": "wait",
                "id": "morning",
                "duration": "PT1H",
                "until": {"hour": 10, "minute": 30, "weekdays": [1, 3, 5]},
            },
            {
                "kind": "branch",
                "id": "segment",
                "rules": [
                    {"id": "vip", "conditions": [{"type": "tag", "tag": "vip", "present": True}]},
                    {
                        "id": "big",
                        "conditions": [
                            {
                                "type": "attribute",
                                "where": {"path": "spend", "op": "gte", "value": 1000},
                            },
                            {"type": "identity", "identity": "phone", "present": True},
                        ],
                    },
                    {
                        "id": "recent",
                        "conditions": [
                            {"type": "last_event", "where": {"path": "channel", "op": "exists"}}
                        ],
                    },
                ],
            },
            {
                "kind": "action",
                "id": "vip_note",
                "channel": "sandbox",
                "action": "send_message",
                "params": {"text": "Hi VIP", "to": "contact"},
                "respect_quiet_hours": False,
            },
            {
                "kind": "wait_for_event",
                "id": "await_order",
                "event_type": "order.paid",
                "where": [{"path": "total", "op": "gt", "value": 0}],
                "timeout": "P3D",
            },
            {
                "kind": "goal",
                "id": "bought",
                "name": "Paid",
                "event_type": "order.paid",
                "where": [{"path": "total", "op": "gte", "value": 100}],
            },
            {"kind": "exit", "id": "done", "reason": "done"},
        ],
        "edges": [
            {"source": "start", "target": "tag", "label": "next"},
            {"source": "tag", "target": "morning", "label": "next"},
            {"source": "morning", "target": "segment", "label": "next"},
            {"source": "segment", "target": "vip_note", "label": "vip"},
            {"source": "segment", "target": "await_order", "label": "big"},
            {"source": "segment", "target": "await_order", "label": "recent"},
            {"source": "segment", "target": "done", "label": "else"},
            {"source": "vip_note", "target": "await_order", "label": "next"},
            {"source": "vip_note", "target": "done", "label": "failed"},
            {"source": "await_order", "target": "done", "label": "matched"},
            {"source": "await_order", "target": "done", "label": "timed_out"},
        ],
        "settings": {
            "timezone": "Asia/Shanghai",
            "quiet_hours": {"start": 22, "end": 8},
            "exit_triggers": [
                {
                    "event_type": "wecom.contact_deleted_by_customer",
                    "where": [{"path": "by", "op": "eq", "value": "customer"}],
                    "reason": "deleted",
                }
            ],
        },
    }


async def _create_json(api: httpx.AsyncClient, tenant: TenantKeys, definition: Any) -> Any:
    data = await gql(
        api, tenant, CREATE_JOURNEY, {"input": {"name": "JSON", "definition": definition}}
    )
    return data["createJourney"]


async def _create_typed(api: httpx.AsyncClient, tenant: TenantKeys, definition: Any) -> Any:
    data = await gql(
        api, tenant, CREATE_TYPED, {"name": "Typed", "typed": definition}, role="designer"
    )
    return data["createJourney"]


async def test_a_journey_built_with_typed_inputs_equals_the_json_one(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for definition in (
        welcome_journey(),
        branching_journey(),
        canonical_journey("real").model_dump(mode="json"),
    ):
        from_json = await _create_json(api, tenant, definition)
        from_typed = await _create_typed(api, tenant, typed(definition))
        assert from_typed["__typename"] == from_json["__typename"] == "Journey"
        assert from_typed["draft"] == from_json["draft"]
        assert from_typed["problems"] == from_json["problems"] == []


async def test_typed_inputs_left_out_take_the_domain_defaults(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    minimal = {
        "nodes": [{"entry": {"id": "start"}}, {"exit": {"id": "done"}}],
        "edges": [{"source": "start", "target": "done"}],
    }
    created = await _create_typed(api, tenant, minimal)
    assert created["problems"] == []
    draft = created["draft"]
    assert draft["nodes"][0]["trigger"] == {"type": "manual"}
    assert draft["nodes"][0]["reentry"] == {"mode": "never", "entry_key": None}
    assert draft["nodes"][1]["reason"] == "completed"
    assert draft["edges"] == [{"source": "start", "target": "done", "label": "next"}]
    assert draft["settings"]["timezone"] == "Asia/Shanghai"


async def test_typed_field_errors_name_the_node_and_field(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    broken = {
        "nodes": [
            {"entry": {"id": "start"}},
            {"waitForEvent": {"id": "w", "eventType": "x", "timeout": "soon"}},
        ]
    }
    created = await _create_typed(api, tenant, broken)
    assert created["__typename"] == "ValidationFailed"
    assert created["problems"] == [{"code": "invalid_field", "nodeId": "w", "path": "timeout"}]


async def test_giving_both_definition_forms_is_invalid_input(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = """
    mutation($typed: JourneyDefinitionInput!, $json: JSON!) {
      createJourney(input: {name: "Both", typedDefinition: $typed, definition: $json}) {
        __typename ... on InvalidInput { errors { path } }
      }
    }
    """
    data = await gql(api, tenant, query, {"typed": typed(welcome_journey()), "json": {}})
    assert data["createJourney"] == {
        "__typename": "InvalidInput",
        "errors": [{"path": "typedDefinition"}],
    }


async def test_a_node_input_with_two_kinds_or_none_is_a_clear_graphql_error(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    two = {"nodes": [{"entry": {"id": "a"}, "exit": {"id": "a"}}]}
    none: dict[str, Any] = {"nodes": [{}]}
    for definition in (two, none):
        response = await api.post(
            "/graphql",
            json={"query": CREATE_TYPED, "variables": {"name": "X", "typed": definition}},
            headers=tenant.auth(),
        )
        body = response.json()
        assert "data" not in body or body["data"] is None
        (error,) = body["errors"]
        assert "NodeInput" in error["message"]
        assert "exactly one" in error["message"]
    inline = await api.post(
        "/graphql",
        json={
            "query": 'query { validateJourney(source: {journeyId: "j", definition: {}}) '
            "{ __typename } }"
        },
        headers=tenant.auth(),
    )
    (error,) = inline.json()["errors"]
    assert "JourneyDefinitionSource" in error["message"]
    assert "exactly one" in error["message"]


def _three_problems() -> dict[str, Any]:
    definition = welcome_journey()
    definition["nodes"][1] = {**definition["nodes"][1], "channel": "carrier_pigeon"}
    definition["nodes"].append({"kind": "wait", "id": "orphan", "duration": "PT5M"})
    definition["nodes"][2] = {**definition["nodes"][2], "timeout": "-PT5S"}
    return definition


async def test_validate_journey_lists_every_problem_of_any_source(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    broken = _three_problems()
    expected = {
        ("unknown_channel", "welcome"),
        ("duration_out_of_bounds", "await_order"),
        ("unreachable_node", "orphan"),
        ("missing_edge", "orphan"),
    }
    created = await _create_json(api, tenant, broken)
    sources = [
        {"definition": broken},
        {"typedDefinition": typed(broken)},
        {"journeyId": created["id"]},
    ]
    reports = []
    for source in sources:
        data = await gql(api, tenant, VALIDATE, {"source": source}, role="viewer")
        report = data["validateJourney"]
        assert report["__typename"] == "ValidationReport"
        assert report["valid"] is False
        assert {(p["code"], p["nodeId"]) for p in report["problems"]} == expected
        assert all(p["message"] for p in report["problems"])
        reports.append(report)
    assert reports[0] == reports[1] == reports[2]

    missing = await gql(api, tenant, VALIDATE, {"source": {"journeyId": "jrn_nope"}})
    assert missing["validateJourney"] == {
        "__typename": "NotFound",
        "kind": "journey",
        "id": "jrn_nope",
    }
    unparsable = await gql(api, tenant, VALIDATE, {"source": {"definition": []}})
    assert [p["code"] for p in unparsable["validateJourney"]["problems"]] == ["invalid_field"]


async def test_duplicating_copies_the_draft_into_a_new_draft_journey(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    source = await _create_json(api, tenant, welcome_journey())
    await gql(api, tenant, PUBLISH_JOURNEY, {"id": source["id"]})
    data = await gql(api, tenant, DUPLICATE, {"id": source["id"], "name": "Copy"}, role="designer")
    copy_ = data["duplicateJourney"]
    assert copy_["__typename"] == "Journey"
    assert copy_["id"] != source["id"]
    assert (copy_["name"], copy_["status"], copy_["latestVersion"]) == ("Copy", "DRAFT", 0)
    assert copy_["versions"] == []
    assert copy_["draft"] == source["draft"]

    missing = await gql(api, tenant, DUPLICATE, {"id": "jrn_nope", "name": "X"})
    assert missing["duplicateJourney"]["__typename"] == "NotFound"
    blank = await gql(api, tenant, DUPLICATE, {"id": source["id"], "name": "  "})
    assert blank["duplicateJourney"] == {
        "__typename": "InvalidInput",
        "errors": [{"path": "name", "message": "a journey name must not be blank"}],
    }
    denied = await gql(api, tenant, DUPLICATE, {"id": source["id"], "name": "X"}, role="viewer")
    assert denied["duplicateJourney"] == {
        "__typename": "Forbidden",
        "requiredPermission": "edit_journeys",
    }


async def test_archive_and_unarchive_restore_the_previous_status(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    query = """
    mutation($id: ID!) {
      archiveJourney(id: $id) { __typename ... on Journey { status } }
      unarchiveJourney(id: $id) { __typename ... on Journey { status } }
    }
    """
    published = await _create_json(api, tenant, welcome_journey())
    await gql(api, tenant, PUBLISH_JOURNEY, {"id": published["id"]})
    draft = await _create_json(api, tenant, welcome_journey())
    for journey, restored in ((published, "PUBLISHED"), (draft, "DRAFT")):
        data = await gql(api, tenant, query, {"id": journey["id"]}, role="designer")
        assert data["archiveJourney"] == {"__typename": "Journey", "status": "ARCHIVED"}
        assert data["unarchiveJourney"] == {"__typename": "Journey", "status": restored}
    missing = await gql(api, tenant, query, {"id": "jrn_nope"})
    assert missing["unarchiveJourney"]["__typename"] == "NotFound"
    denied = await gql(api, tenant, query, {"id": draft["id"]}, role="viewer")
    assert denied["unarchiveJourney"]["__typename"] == "Forbidden"


async def _two_versions(api: httpx.AsyncClient, tenant: TenantKeys) -> tuple[str, dict[str, Any]]:
    """A journey published as v1 (welcome) and v2 (new text, a wait before the order wait)."""
    created = await _create_json(api, tenant, welcome_journey())
    journey_id = created["id"]
    await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id}, role="designer")
    changed = copy.deepcopy(welcome_journey())
    changed["nodes"][1]["params"]["text"] = "Welcome aboard!"
    changed["nodes"].append({"kind": "wait", "id": "pause", "duration": "PT1M"})
    changed["edges"][1] = {"source": "welcome", "target": "pause"}
    changed["edges"].append({"source": "pause", "target": "await_order"})
    updated = await gql(
        api,
        tenant,
        UPDATE_JOURNEY,
        {"id": journey_id, "rev": created["revision"], "definition": changed},
        role="designer",
    )
    assert updated["updateJourney"]["problems"] == []
    await gql(api, tenant, PUBLISH_JOURNEY, {"id": journey_id}, role="designer")
    return journey_id, changed


async def test_versions_are_the_publish_history_with_who_and_how_big(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys
) -> None:
    journey_id, _ = await _two_versions(api, tenant)
    designer = await store.tenants.authenticate(tenant.keys["designer"])
    assert designer is not None
    query = """
    query($id: ID!) {
      journey(id: $id) {
        versions { version publishedAt publishedBy nodeCount }
        first: version(number: 1) { version nodeCount definition }
        missing: version(number: 9) { version }
      }
    }
    """
    data = await gql(api, tenant, query, {"id": journey_id}, role="viewer")
    journey = data["journey"]
    versions = journey["versions"]
    assert [(v["version"], v["nodeCount"], v["publishedBy"]) for v in versions] == [
        (1, 5, designer.id),
        (2, 6, designer.id),
    ]
    assert versions[0]["publishedAt"] <= versions[1]["publishedAt"]
    assert journey["first"]["version"] == 1
    assert journey["first"]["definition"]["nodes"][1]["params"]["text"] == "Welcome!"
    assert journey["missing"] is None


async def _project(
    store: Store,
    tenant: TenantKeys,
    journey_id: str,
    customer: str,
    node: str,
    version: int = 1,
    status: EnrollmentStatus = "active",
) -> None:
    now = datetime.now(UTC)
    await store.enrollments.upsert_projection(
        Enrollment(
            id=f"{tenant.tenant_id}:{journey_id}:{customer}",
            tenant_id=tenant.tenant_id,
            journey_id=journey_id,
            version=version,
            customer_id=customer,
            status=status,
            current_node=node,
            started_at=now,
            updated_at=now,
            seq=1,
        )
    )


async def test_the_diagram_shows_how_many_running_enrollments_are_at_each_node(
    api: httpx.AsyncClient, store: Store, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    journey_id, _ = await _two_versions(api, tenant)
    await _project(store, tenant, journey_id, "c1", "await_order")
    await _project(store, tenant, journey_id, "c2", "await_order", status="paused")
    await _project(store, tenant, journey_id, "c3", "welcome")
    await _project(store, tenant, journey_id, "c4", "bought", status="exited")
    await _project(store, tenant, journey_id, "c5", "await_order", version=2)
    await _project(store, other_tenant, journey_id, "c6", "await_order")
    query = """
    query($id: ID!) {
      journey(id: $id) {
        counted: diagram(version: 1, withCounts: true)
        plain: diagram(version: 1)
        draft: diagram
        missing: diagram(version: 7)
        version(number: 1) { diagram(withCounts: true) }
      }
    }
    """
    data = await gql(api, tenant, query, {"id": journey_id}, role="viewer")
    journey = data["journey"]
    counted = journey["counted"]
    assert counted == journey["version"]["diagram"]
    assert counted.startswith("flowchart TD\n")
    lines = {line.split("·")[0].split('"')[-1].strip(): line for line in counted.splitlines()}
    assert lines["await_order"].endswith('now: 2"}}')
    assert lines["welcome"].endswith('now: 1"]')
    assert lines["bought"].endswith('now: 0"))')
    assert lines["start"].endswith('now: 0"])')
    assert "now:" not in journey["plain"]
    assert "pause · wait" in journey["draft"] and "pause" not in journey["plain"]
    assert journey["missing"] is None


DIFF = """
query($id: ID!) {
  journey(id: $id) {
    versions: diff(from: 1, to: 2) { ...diff }
    draft: diff(from: 2) { ...diff }
    missing: diff(from: 1, to: 9) { __typename ... on NotFound { kind id } }
    version(number: 2) { diffFrom(version: 1) { ...diff } }
  }
}
fragment diff on JourneyDiffResult {
  __typename
  ... on JourneyDiff {
    empty nodesAdded nodesRemoved
    nodesChanged { nodeId kindBefore kindAfter fields { path before after } }
    edgesAdded { source label target } edgesRemoved { source label target }
    settingsChanged { path before after }
  }
}
"""


async def test_the_diff_between_versions_names_every_structural_change(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    journey_id, _ = await _two_versions(api, tenant)
    data = await gql(api, tenant, DIFF, {"id": journey_id}, role="viewer")
    journey = data["journey"]
    assert journey["versions"] == {
        "__typename": "JourneyDiff",
        "empty": False,
        "nodesAdded": ["pause"],
        "nodesRemoved": [],
        "nodesChanged": [
            {
                "nodeId": "welcome",
                "kindBefore": "action",
                "kindAfter": "action",
                "fields": [
                    {"path": "params.text", "before": "Welcome!", "after": "Welcome aboard!"}
                ],
            }
        ],
        "edgesAdded": [
            {"source": "welcome", "label": "next", "target": "pause"},
            {"source": "pause", "label": "next", "target": "await_order"},
        ],
        "edgesRemoved": [{"source": "welcome", "label": "next", "target": "await_order"}],
        "settingsChanged": [],
    }
    assert journey["version"]["diffFrom"] == journey["versions"]
    assert journey["draft"]["empty"] is True
    assert journey["draft"]["nodesChanged"] == []
    assert journey["missing"] == {
        "__typename": "NotFound",
        "kind": "journey version",
        "id": f"{journey_id}@9",
    }


async def test_journey_templates_lead_with_the_canonical_journey(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    data = await gql(
        api, tenant, "{ journeyTemplates { key name description definition } }", role="viewer"
    )
    first = data["journeyTemplates"][0]
    assert first["key"] == "douyin-wecom-repurchase"
    assert first["name"].startswith("Douyin ad")
    assert first["definition"] == canonical_journey("real").model_dump(mode="json")


async def test_another_tenant_can_neither_copy_archive_validate_nor_draw_a_journey(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    journey_id, _ = await _two_versions(api, tenant)
    writes = """
    mutation($id: ID!) {
      duplicateJourney(id: $id, name: "Mine now") { __typename }
      archiveJourney(id: $id) { __typename }
      unarchiveJourney(id: $id) { __typename }
    }
    """
    data = await gql(api, other_tenant, writes, {"id": journey_id})
    assert {result["__typename"] for result in data.values()} == {"NotFound"}
    theirs = await gql(api, other_tenant, VALIDATE, {"source": {"journeyId": journey_id}})
    assert theirs["validateJourney"]["__typename"] == "NotFound"
    listed = await gql(api, other_tenant, "{ journeys { totalCount nodes { id } } }")
    assert listed["journeys"] == {"totalCount": 0, "nodes": []}
    mine = await gql(api, tenant, "{ journeys { totalCount } }")
    assert mine["journeys"]["totalCount"] >= 1
