"""Live-journey migration through GraphQL: `migrationPlan` (the dry run) and
`migrateEnrollments` (the move, as a tracked operation)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import (
    Forbidden,
    InvalidInput,
    NotFound,
    described_field,
    described_mutation,
)
from api.graphql.context import Info
from api.graphql.operations.types import BulkOperation
from api.services import migrations as m
from domain.errors import InvalidInputError, NotFoundError


@strawberry.enum(description="What a migration does with the enrollments at a node.")
class MigrationAction(Enum):
    MOVE = strawberry.enum_value("move", description="Move them to `toNode` of the new version.")
    DRAIN = strawberry.enum_value("drain", description="Leave them on the old version.")
    CANCEL = strawberry.enum_value("cancel", description="Cancel them.")


@strawberry.input(description="Where the enrollments at one node of the old version go.")
class NodeMappingInput:
    from_node: str = strawberry.field(description="A node of the old version.")
    to_node: str = strawberry.field(
        description="A node of the new version (not its entry or a goal), or `drain` to leave "
        "them on the old version, or `cancel`."
    )


@strawberry.type(description="The enrollments at one node of the old version, and their move.")
class MigrationGroup:
    from_node: str = strawberry.field(description="Where they are now.")
    to_node: str | None = strawberry.field(description="Where they go (null: drain, cancel).")
    action: MigrationAction = strawberry.field(description="What happens to them.")
    enrollments: int = strawberry.field(description="How many (running now).")
    sends: int = strawberry.field(description="Of them, how many send `toNode`'s message.")
    skips: int = strawberry.field(
        description="Of them, how many enter an action they already got (same node, same "
        "delivery key): answered from its record, not sent again."
    )


@strawberry.type(description="One problem of a migration mapping.")
class MigrationProblem:
    path: str = strawberry.field(description="`mapping.<node>`, or the argument.")
    message: str = strawberry.field(description="What is wrong.")


@strawberry.type(description="The dry run of a migration; `valid` when it may be started.")
class MigrationPlan:
    valid: bool = strawberry.field(description="No problems: `migrateEnrollments` would run it.")
    groups: list[MigrationGroup] = strawberry.field(description="Per occupied node.")
    problems: list[MigrationProblem] = strawberry.field(description="Every problem found.")

    @classmethod
    def of(cls, plan: m.MigrationPlan) -> MigrationPlan:
        return cls(
            valid=plan.valid,
            groups=[
                MigrationGroup(
                    from_node=g.from_node,
                    to_node=g.to_node,
                    action=MigrationAction(g.action),
                    enrollments=g.enrollments,
                    sends=g.sends,
                    skips=g.skips,
                )
                for g in plan.groups
            ],
            problems=[MigrationProblem(path=p.path, message=p.message) for p in plan.problems],
        )


MigrationPlanResult = Annotated[
    MigrationPlan | NotFound,
    strawberry.union(
        "MigrationPlanResult", description="The plan; `NotFound` for an unknown journey/version."
    ),
]
MigrateEnrollmentsResult = Annotated[
    BulkOperation | InvalidInput | NotFound | Forbidden,
    strawberry.union(
        "MigrateEnrollmentsResult",
        description="`BulkOperation` (kind `MIGRATE`), started; `InvalidInput` naming every "
        "problem of the plan (nothing moved); `NotFound`; `Forbidden` without "
        "`manage_enrollments`.",
    ),
]
JourneyArg = Annotated[strawberry.ID, strawberry.argument(description="The journey.")]
FromArg = Annotated[int, strawberry.argument(description="The version moved from.")]
ToArg = Annotated[int, strawberry.argument(description="The version moved to.")]
MappingArg = Annotated[
    list[NodeMappingInput], strawberry.argument(description="Where each occupied node goes.")
]


def _mapping(mapping: list[NodeMappingInput]) -> dict[str, str]:
    return {item.from_node: item.to_node for item in mapping}


@strawberry.type
class MigrationQueries:
    @described_field(
        "The dry run of moving the running enrollments of `fromVersion` to `toVersion`: per "
        "occupied node, where they go and how many messages that sends or skips; every problem "
        "named (an unmapped occupied node, a node the new version lacks)."
    )
    async def migration_plan(
        self,
        info: Info,
        journey_id: JourneyArg,
        from_version: FromArg,
        to_version: ToArg,
        mapping: MappingArg,
    ) -> MigrationPlanResult:
        try:
            plan = await info.context.services.migrations.plan(
                info.context.tenant_id, journey_id, from_version, to_version, _mapping(mapping)
            )
        except NotFoundError as exc:
            return NotFound.of(exc)
        return MigrationPlan.of(plan)


@strawberry.type
class MigrationMutations:
    @described_mutation(
        "Move the running enrollments of `fromVersion` to `toVersion` as a tracked operation: "
        "each moves at its next step to its node's mapped node, keeping the delivery keys of the "
        "nodes it stays on, so nothing it already got is sent again. Refused with every problem "
        "of the plan named. Needs an operator or admin key (`manage_enrollments`)."
    )
    async def migrate_enrollments(
        self,
        info: Info,
        journey_id: JourneyArg,
        from_version: FromArg,
        to_version: ToArg,
        mapping: MappingArg,
    ) -> MigrateEnrollmentsResult:
        if not info.context.can(Permission.MANAGE_ENROLLMENTS):
            return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
        try:
            operation = await info.context.services.migrations.start(
                info.context.tenant_id,
                journey_id,
                from_version,
                to_version,
                _mapping(mapping),
                created_by=info.context.principal.key_id,
            )
        except InvalidInputError as exc:
            return InvalidInput.of(exc)
        except NotFoundError as exc:
            return NotFound.of(exc)
        return BulkOperation.of(operation)
