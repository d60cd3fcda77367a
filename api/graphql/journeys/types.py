"""Journey types: journeys with their draft and versions, diagrams, diffs, templates, channels."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import NotFound, Problem, described_field
from api.graphql.context import Info
from api.graphql.metrics.experiments import ExperimentDecision
from domain import diff as domain_diff
from domain.diagram import mermaid
from domain.errors import NotFoundError
from domain.journey import Edge
from domain.templates import JourneyTemplate as TemplateModel
from domain.validation import Problem as DomainProblem
from store.journeys import Journey as JourneyModel
from store.journeys import JourneyVersion as JourneyVersionModel

WITH_COUNTS = "Add to every node how many running enrollments of the version are at it now."


@strawberry.enum(description="`DRAFT` until first published; `ARCHIVED` takes no new enrollments.")
class JourneyStatus(Enum):
    DRAFT = strawberry.enum_value("draft", description="Never published; takes no enrollments.")
    PUBLISHED = strawberry.enum_value(
        "published", description="Has a live version that new enrollments start on."
    )
    ARCHIVED = strawberry.enum_value(
        "archived", description="Takes no new enrollments; running ones carry on."
    )


@strawberry.type(description="`source --label--> target`.")
class DefinitionEdge:
    source: str = strawberry.field(description="The node the edge leaves.")
    target: str = strawberry.field(description="The node the edge leads to.")
    label: str = strawberry.field(description="The outcome of the source it follows.")

    @classmethod
    def of(cls, edge: Edge) -> DefinitionEdge:
        return cls(source=edge.source, target=edge.target, label=edge.label)


@strawberry.type(description="One field whose value differs between two definitions.")
class FieldChange:
    path: str = strawberry.field(
        description="Where in the node or settings, e.g. `params.text`, `trigger.where[0].value`."
    )
    before: JSON | None = strawberry.field(description="The old value; null when absent.")
    after: JSON | None = strawberry.field(description="The new value; null when absent.")

    @classmethod
    def of(cls, change: domain_diff.FieldChange) -> FieldChange:
        return cls(path=change.path, before=change.before, after=change.after)


@strawberry.type(description="A node on both sides whose definition differs.")
class NodeChange:
    node_id: str = strawberry.field(description="The node's id.")
    kind_before: str = strawberry.field(description="Its kind before.")
    kind_after: str = strawberry.field(description="Its kind after (the same unless replaced).")
    fields: list[FieldChange] = strawberry.field(description="Every changed field.")

    @classmethod
    def of(cls, change: domain_diff.NodeChange) -> NodeChange:
        return cls(
            node_id=change.node_id,
            kind_before=change.kind_before,
            kind_after=change.kind_after,
            fields=[FieldChange.of(f) for f in change.fields],
        )


@strawberry.type(
    description="What changed between two definitions: nodes matched by id, edges by "
    "(source, label, target), so a re-pointed edge is one removed and one added."
)
class JourneyDiff:
    empty: bool = strawberry.field(
        description="True when the definitions are structurally identical (canvas metadata "
        "aside: see `layoutChanged`)."
    )
    nodes_added: list[str] = strawberry.field(description="Ids of nodes only in the newer one.")
    nodes_removed: list[str] = strawberry.field(description="Ids of nodes only in the older one.")
    nodes_changed: list[NodeChange] = strawberry.field(
        description="Nodes on both sides that differ."
    )
    edges_added: list[DefinitionEdge] = strawberry.field(description="Edges only in the newer one.")
    edges_removed: list[DefinitionEdge] = strawberry.field(
        description="Edges only in the older one."
    )
    settings_changed: list[FieldChange] = strawberry.field(description="Changed settings fields.")
    layout_changed: list[str] = strawberry.field(
        description="Ids of nodes on both sides whose canvas metadata (`ui`) differs; not "
        "structure, so not in `nodesChanged`."
    )

    @classmethod
    def of(cls, model: domain_diff.JourneyDiff) -> JourneyDiff:
        return cls(
            empty=model.empty,
            nodes_added=list(model.nodes_added),
            nodes_removed=list(model.nodes_removed),
            nodes_changed=[NodeChange.of(c) for c in model.nodes_changed],
            edges_added=[DefinitionEdge.of(e) for e in model.edges_added],
            edges_removed=[DefinitionEdge.of(e) for e in model.edges_removed],
            settings_changed=[FieldChange.of(c) for c in model.settings_changed],
            layout_changed=list(model.layout_changed),
        )


JourneyDiffResult = Annotated[
    JourneyDiff | NotFound,
    strawberry.union(
        "JourneyDiffResult", description="The diff, or `NotFound` when a version does not exist."
    ),
]


async def _diff(info: Info, journey_id: str, before: int, after: int | None) -> JourneyDiffResult:
    try:
        found = await info.context.services.journeys.diff(
            info.context.tenant_id, journey_id, before, after
        )
    except NotFoundError as exc:
        return NotFound.of(exc)
    return JourneyDiff.of(found)


async def _version(info: Info, journey_id: str, number: int) -> JourneyVersionModel | None:
    try:
        return await info.context.services.store.journeys.get_version(
            info.context.tenant_id, journey_id, number
        )
    except NotFoundError:
        return None


@strawberry.type(description="The outcome of validating a definition: publishable when `valid`.")
class ValidationReport:
    valid: bool = strawberry.field(description="True when there is no problem.")
    problems: list[Problem] = strawberry.field(
        description="Every problem, journey-wide ones first, then by node in definition order."
    )

    @classmethod
    def of(cls, problems: list[DomainProblem]) -> ValidationReport:
        return cls(valid=not problems, problems=[Problem.of(p) for p in problems])


@strawberry.type(
    description="One published, immutable version; enrollments stay on the version they started on."
)
class JourneyVersion:
    version: int = strawberry.field(description="The version number, from 1.")
    published_at: datetime = strawberry.field(description="When it was published.")
    published_by: str | None = strawberry.field(
        description="The id of the API key that published it (null for versions published "
        "outside the API)."
    )
    node_count: int = strawberry.field(description="How many nodes the version has.")
    definition: JSON = strawberry.field(description="The definition, as a JSON document.")
    listened_event_types: list[str] = strawberry.field(
        description="Event types its enrollments react to (waits, goals, exit triggers)."
    )
    experiment_decisions: list[ExperimentDecision] = strawberry.field(
        description="Winners picked for its splits (by their winner rules), oldest first."
    )
    model: strawberry.Private[JourneyVersionModel]

    @classmethod
    def of(cls, model: JourneyVersionModel) -> JourneyVersion:
        return cls(
            version=model.version,
            published_at=model.published_at,
            published_by=model.published_by,
            node_count=len(model.definition.nodes),
            definition=JSON(model.definition.model_dump(mode="json")),
            listened_event_types=list(model.listened_event_types),
            experiment_decisions=[
                ExperimentDecision.of(decision)
                for decision in sorted(
                    model.experiment_decisions.values(), key=lambda item: item.decided_at
                )
            ],
            model=model,
        )

    @described_field("The version as a Mermaid flowchart (`flowchart TD`), one shape per kind.")
    async def diagram(
        self,
        info: Info,
        with_counts: Annotated[bool, strawberry.argument(description=WITH_COUNTS)] = False,
    ) -> str:
        return await info.context.services.journeys.diagram(self.model, with_counts=with_counts)

    @described_field("What changed from an earlier (or later) version to this one.")
    async def diff_from(
        self,
        info: Info,
        version: Annotated[int, strawberry.argument(description="The version to compare with.")],
    ) -> JourneyDiffResult:
        return await _diff(info, self.model.journey_id, version, self.model.version)


@strawberry.type(
    description="A journey: its editable draft (with the problems it still has) and its versions."
)
class Journey:
    id: strawberry.ID = strawberry.field(description="The journey id.")
    name: str = strawberry.field(description="Its name, 1 to 200 characters.")
    description: str = strawberry.field(description="What it is for.")
    status: JourneyStatus = strawberry.field(description="Draft, published or archived.")
    revision: int = strawberry.field(description="Pass it back as `expectedRevision` to update.")
    latest_version: int = strawberry.field(
        description="The highest version number published; 0 before the first publish."
    )
    live_version: int | None = strawberry.field(
        description="The version new enrollments start on; null until published."
    )
    draft: JSON = strawberry.field(
        description="The editable definition (nodes, edges, settings) as a JSON document."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    model: strawberry.Private[JourneyModel]

    @classmethod
    def of(cls, model: JourneyModel) -> Journey:
        return cls(
            id=strawberry.ID(model.id),
            name=model.name,
            description=model.description,
            status=JourneyStatus(model.status),
            revision=model.revision,
            latest_version=model.latest_version,
            live_version=model.live_version,
            draft=JSON(model.draft.model_dump(mode="json")),
            created_at=model.created_at,
            updated_at=model.updated_at,
            model=model,
        )

    @described_field("What still stops the draft from being published (empty: publishable).")
    def problems(self, info: Info) -> list[Problem]:
        return [Problem.of(p) for p in info.context.services.journeys.problems(self.model.draft)]

    @described_field("Published versions (the history), oldest first.")
    async def versions(self, info: Info) -> list[JourneyVersion]:
        found = await info.context.services.store.journeys.list_versions(
            info.context.tenant_id, self.model.id
        )
        return [JourneyVersion.of(v) for v in found]

    @described_field("One published version, or null when there is no such version.")
    async def version(
        self,
        info: Info,
        number: Annotated[int, strawberry.argument(description="The version number.")],
    ) -> JourneyVersion | None:
        found = await _version(info, self.model.id, number)
        return None if found is None else JourneyVersion.of(found)

    @described_field(
        "A Mermaid flowchart (`flowchart TD`) of a version, or of the draft when `version` is "
        "null; null when there is no such version."
    )
    async def diagram(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(description="The version to draw; null draws the draft."),
        ] = None,
        with_counts: Annotated[
            bool,
            strawberry.argument(description=f"{WITH_COUNTS} Ignored for the draft."),
        ] = False,
    ) -> str | None:
        if version is None:
            return mermaid(self.model.draft)
        found = await _version(info, self.model.id, version)
        if found is None:
            return None
        return await info.context.services.journeys.diagram(found, with_counts=with_counts)

    @described_field(
        "The structural diff from version `from` to version `to` (to the draft when `to` is "
        "null): nodes added, removed and changed (with field paths), edges, settings."
    )
    async def diff(
        self,
        info: Info,
        from_: Annotated[
            int, strawberry.argument(name="from", description="The older version number.")
        ],
        to: Annotated[
            int | None,
            strawberry.argument(description="The newer version number; null compares the draft."),
        ] = None,
    ) -> JourneyDiffResult:
        return await _diff(info, self.model.id, from_, to)


@strawberry.type(description="A journey designers can start from (`createJourneyFromTemplate`).")
class JourneyTemplate:
    key: str = strawberry.field(description="Pass it to `createJourneyFromTemplate`.")
    name: str = strawberry.field(description="What the template is called.")
    description: str = strawberry.field(description="What the journey does, step by step.")
    definition: JSON = strawberry.field(description="The definition it creates, as JSON.")

    @classmethod
    def of(cls, template: TemplateModel) -> JourneyTemplate:
        return cls(
            key=template.key,
            name=template.title,
            description=template.description,
            definition=JSON(template.build().model_dump(mode="json")),
        )


@strawberry.type(
    description="An action journeys may run, with the JSON schema its `params` must satisfy."
)
class ChannelAction:
    channel: str = strawberry.field(description="The channel, an action node's `channel`.")
    action: str = strawberry.field(description="The action, an action node's `action`.")
    description: str = strawberry.field(description="What the action does.")
    params_schema: JSON = strawberry.field(
        description="The JSON schema an action node's `params` must satisfy; fields with "
        "`x-template: liquid` hold Liquid templates over `customer` and `event`."
    )

    @classmethod
    def of(cls, described: dict[str, Any]) -> ChannelAction:
        return cls(
            channel=str(described["channel"]),
            action=str(described["action"]),
            description=str(described.get("description", "")),
            params_schema=JSON(described.get("params_schema", {})),
        )
