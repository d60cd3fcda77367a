"""Adding a channel is one module plus its registration (docs/architecture.md, "How to add a
channel"): a connector defined here, registered and nothing else, is checked by journey
validation, listed in the catalog, served on its own task queue and run by journeys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from connectors.base import (
    ActionOutcome,
    ActionRequest,
    ActionSpec,
    action_spec,
    parse_params,
    render_text,
)
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition
from domain.templating import template_field
from domain.validation import validate_journey
from tests.workflows.harness import bench


class PageParams(BaseModel):
    """Params of `pager.page`."""

    model_config = ConfigDict(extra="forbid")

    text: str = template_field(min_length=1, max_length=200)
    priority: int = Field(default=3, ge=1, le=5)


class PagerConnector:
    """What a new `connectors/pager.py` would hold: a name, its actions, `execute`."""

    name = "pager"
    actions: Mapping[str, ActionSpec] = {
        "page": ActionSpec("page", PageParams, "Page the customer's account manager.")
    }

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def execute(self, request: ActionRequest) -> ActionOutcome:
        spec = action_spec(self.name, self.actions, request.action)
        params = parse_params(self.name, spec.name, PageParams, request.params)
        self.sent.append((request.idempotency_key, render_text(request, params.text)))
        return ActionOutcome(external_id=f"page-{len(self.sent)}")


def journey(params: dict[str, Any]) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=[
            EntryNode(id="entry"),
            ActionNode(id="page", channel="pager", action="page", params=params),
            ExitNode(id="done"),
        ],
        edges=[Edge(source="entry", target="page"), Edge(source="page", target="done")],
    )


def test_a_registered_channel_is_in_the_catalog_validation_checks_against() -> None:
    registry = ConnectorRegistry([SandboxConnector(), PagerConnector()])

    assert validate_journey(journey({"text": "hi"}), registry.catalog()) == []
    problems = validate_journey(journey({"text": "hi", "priority": 9}), registry.catalog())
    assert [(p.code, p.node_id, p.path) for p in problems] == [
        ("invalid_params", "page", "params.priority")
    ]
    [described] = [item for item in registry.describe() if item["channel"] == "pager"]
    assert described["action"] == "page"
    assert described["params_schema"]["properties"]["text"]["x-template"] == "liquid"


async def test_a_registered_channel_gets_its_queue_and_runs_in_journeys(
    mongo_db: AsyncDatabase[Any], temporal_env: WorkflowEnvironment
) -> None:
    pager = PagerConnector()
    async with bench(mongo_db, temporal_env.client, [pager]) as jb:
        journey_id, version = await jb.publish(journey({"text": "hello"}))
        customer_id = await jb.customer()
        enrollment_id = await jb.enroll(journey_id, version, customer_id)

        result = await jb.result(enrollment_id)
        [delivery] = await jb.deliveries(enrollment_id)

    # It ran: the bench's workers (runtime.worker.build_workers) served `channel.pager`.
    assert result.status == "exited"
    assert [key for key, _ in pager.sent] == [delivery.idempotency_key]
    assert delivery.idempotency_key.startswith(enrollment_id + ":")
    assert delivery.idempotency_key.endswith(":page:1")
    assert pager.sent[0][1] == "hello"
    assert (delivery.channel, delivery.status, delivery.external_id) == (
        "pager",
        "succeeded",
        "page-1",
    )
    handle = temporal_env.client.get_workflow_handle(enrollment_id)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
