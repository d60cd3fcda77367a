"""Live-journey migration: move the running enrollments of one version to another.

`plan` is the dry run: for every node of the old version that running enrollments are at now,
where the mapping sends them (a node of the new version, `drain` to stay on the old version, or
`cancel`), how many, and what they will do there — a move into an action node sends its message,
except a move to the same node id it is at, which keeps that node's delivery key, so an action
already delivered is answered from its record and not sent again. Every occupied node must be
mapped, to a node the new version has (not its entry or a goal); each problem is named. `start`
runs the move as a tracked `migrate` bulk operation: each enrollment is signalled and moves at
its next step (after an action in flight), continuing as new on the new version at its node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from api.services.operations import OperationService
from domain.errors import FieldProblem, InvalidInputError
from domain.journey import ActionNode, EntryNode, GoalNode
from store.database import Store
from store.operations import BulkOperation
from workflows.models import CANCEL, DRAIN

MoveKind = Literal["move", "drain", "cancel"]


@dataclass(frozen=True, slots=True)
class MigrationGroup:
    """The enrollments at one node of the old version and what the mapping does with them."""

    from_node: str
    to_node: str | None
    action: MoveKind
    enrollments: int
    sends: int = 0
    skips: int = 0


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """The dry run of a migration: its groups, and every problem (a plan with any is refused)."""

    groups: list[MigrationGroup] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


class MigrationService:
    """Plans and starts migrations."""

    def __init__(self, store: Store, operations: OperationService) -> None:
        self._store = store
        self._operations = operations

    async def plan(
        self,
        tenant_id: str,
        journey_id: str,
        from_version: int,
        to_version: int,
        mapping: dict[str, str],
    ) -> MigrationPlan:
        """The dry run; `NotFoundError` for an unknown journey or version."""
        old = await self._store.journeys.get_version(tenant_id, journey_id, from_version)
        new = await self._store.journeys.get_version(tenant_id, journey_id, to_version)
        old_nodes = {node.id: node for node in old.definition.nodes}
        new_nodes = {node.id: node for node in new.definition.nodes}
        problems: list[FieldProblem] = []
        if from_version == to_version:
            problems.append(FieldProblem(path="toVersion", message="must differ from fromVersion"))
        for node_id in sorted(set(mapping) - set(old_nodes)):
            problems.append(
                FieldProblem(
                    path=f"mapping.{node_id}", message=f"v{from_version} has no node {node_id!r}"
                )
            )
        occupied = await self._store.enrollments.count_by_current_node(
            tenant_id, journey_id, from_version
        )
        groups = []
        for node_id, count in sorted(occupied.items()):
            target = mapping.get(node_id)
            if target is None:
                problems.append(
                    FieldProblem(
                        path=f"mapping.{node_id}",
                        message=f"{count} enrollment(s) are at {node_id!r}: map it to a node of "
                        f"v{to_version}, or to `drain` or `cancel`",
                    )
                )
                continue
            if target in (DRAIN, CANCEL):
                action: MoveKind = "drain" if target == DRAIN else "cancel"
                groups.append(MigrationGroup(node_id, None, action, count))
                continue
            node = new_nodes.get(target)
            if node is None or isinstance(node, EntryNode | GoalNode):
                why = (
                    "has no such node" if node is None else f"cannot be entered at its {node.kind}"
                )
                problems.append(
                    FieldProblem(
                        path=f"mapping.{node_id}", message=f"v{to_version} {why}: {target!r}"
                    )
                )
                continue
            acts = isinstance(node, ActionNode)
            same = target == node_id
            groups.append(
                MigrationGroup(
                    node_id,
                    target,
                    "move",
                    count,
                    sends=count if acts and not same else 0,
                    skips=count if acts and same else 0,
                )
            )
        return MigrationPlan(groups, problems)

    async def start(
        self,
        tenant_id: str,
        journey_id: str,
        from_version: int,
        to_version: int,
        mapping: dict[str, str],
        *,
        created_by: str,
    ) -> BulkOperation:
        """Plan, then run the move; `InvalidInputError` naming the plan's problems, nothing
        moved; `NotFoundError` for an unknown journey or version."""
        plan = await self.plan(tenant_id, journey_id, from_version, to_version, mapping)
        if not plan.valid:
            raise InvalidInputError(plan.problems)
        return await self._operations.start(
            tenant_id,
            "migrate",
            journey_id,
            created_by=created_by,
            version=from_version,
            to_version=to_version,
            mapping=dict(mapping),
        )
