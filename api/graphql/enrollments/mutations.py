"""Enrollment operations: enroll by hand, pause, resume, cancel."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth import Permission
from api.graphql.common import ConflictResult, Forbidden, NotFound, described_mutation
from api.graphql.context import Info
from api.graphql.enrollments.types import Enrollment
from api.services.enrollments import Operation
from domain import errors


@strawberry.type
class Enrolled:
    """The enrollment was requested; it shows up in `enrollment(id)` once its workflow records it."""

    enrollment_id: str
    outcome: str = strawberry.field(description="`started` or `already_enrolled`.")


EnrollCustomerResult = Annotated[
    Enrolled | NotFound | ConflictResult | Forbidden, strawberry.union("EnrollCustomerResult")
]
EnrollmentOperationResult = Annotated[
    Enrollment | NotFound | ConflictResult | Forbidden,
    strawberry.union("EnrollmentOperationResult"),
]


async def _operate(
    info: Info, id: str, operation: Operation, reason: str | None = None
) -> EnrollmentOperationResult:
    if not info.context.can(Permission.MANAGE_ENROLLMENTS):
        return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
    try:
        model = await info.context.services.enrollments.operate(
            info.context.tenant_id, id, operation, reason
        )
    except errors.NotFound as exc:
        return NotFound.of(exc)
    except errors.Conflict as exc:
        return ConflictResult.of(exc)
    return Enrollment.of(model)


@strawberry.type
class EnrollmentMutations:
    @described_mutation("Enroll a customer in a published journey's live version.")
    async def enroll_customer(
        self, info: Info, journey_id: strawberry.ID, customer_id: strawberry.ID
    ) -> EnrollCustomerResult:
        if not info.context.can(Permission.MANAGE_ENROLLMENTS):
            return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
        try:
            outcome = await info.context.services.enrollments.enroll(
                info.context.tenant_id, journey_id, customer_id
            )
        except errors.NotFound as exc:
            return NotFound.of(exc)
        except errors.Conflict as exc:
            return ConflictResult.of(exc)
        return Enrolled(enrollment_id=outcome.enrollment_id, outcome=outcome.status)

    @described_mutation("Pause a running enrollment (the projection as it was).")
    async def pause_enrollment(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> EnrollmentOperationResult:
        return await _operate(info, id, "pause", reason)

    @described_mutation("Resume a paused enrollment (the projection as it was).")
    async def resume_enrollment(self, info: Info, id: strawberry.ID) -> EnrollmentOperationResult:
        return await _operate(info, id, "resume")

    @described_mutation("Cancel a running enrollment (the projection as it was).")
    async def cancel_enrollment(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> EnrollmentOperationResult:
        return await _operate(info, id, "cancel", reason)
