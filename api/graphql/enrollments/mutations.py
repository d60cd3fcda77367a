"""Enrollment operations: enroll by hand, re-enroll, pause, resume, cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

import strawberry

from api.auth import Permission
from api.graphql.common import Conflict, Forbidden, NotFound, described_mutation
from api.graphql.context import Info
from api.graphql.enrollments.types import Enrollment
from api.services.enrollments import Operation
from domain.errors import ConflictError, NotFoundError, ReentryNotAllowedError
from workflows.client import EnrollOutcome

ENROLLMENT_ID = "The enrollment (workflow) id."


@strawberry.type(
    description="The enrollment was requested; it shows up in `enrollment(id)` once its "
    "workflow records it."
)
class Enrolled:
    """The enrollment was requested; it shows up in `enrollment(id)` once its workflow records it."""

    enrollment_id: str = strawberry.field(
        description="The enrollment (workflow) id, `{tenant}:{journey}:{customer}[:{entry key}]`."
    )
    outcome: str = strawberry.field(description="`started` or `already_enrolled`.")


EnrollCustomerResult = Annotated[
    Enrolled | NotFound | Conflict | Forbidden,
    strawberry.union(
        "EnrollCustomerResult",
        description="`Enrolled` (started, or already enrolled); `NotFound` for an unknown "
        "journey or customer; `Conflict` when the journey is not published; `Forbidden` without "
        "the `manage_enrollments` permission.",
    ),
]


@strawberry.type(
    description="The journey's re-entry policy does not let the customer enter again: `NEVER` "
    "once they have been enrolled, `AFTER_EXIT` while their enrollment runs. Nothing was started."
)
class ReentryNotAllowed:
    """The journey's re-entry policy does not let the customer enter again: `NEVER` once they
    have been enrolled, `AFTER_EXIT` while their enrollment runs."""

    message: str = strawberry.field(description="What the policy forbids, in words.")
    policy: str = strawberry.field(description="`never`, `after_exit` or `concurrent`.")
    enrollment_id: str = strawberry.field(description="The enrollment in the way.")

    @classmethod
    def of(cls, error: ReentryNotAllowedError) -> ReentryNotAllowed:
        return cls(message=str(error), policy=error.policy, enrollment_id=error.enrollment_id)


ReenrollCustomerResult = Annotated[
    Enrolled | ReentryNotAllowed | NotFound | Conflict | Forbidden,
    strawberry.union(
        "ReenrollCustomerResult",
        description="`Enrolled` when a new enrollment was started; `ReentryNotAllowed` when the "
        "policy refuses; `NotFound` for an unknown journey or customer; `Conflict` when the "
        "journey is not published; `Forbidden` without `manage_enrollments`.",
    ),
]
EnrollmentOperationResult = Annotated[
    Enrollment | NotFound | Conflict | Forbidden,
    strawberry.union(
        "EnrollmentOperationResult",
        description="`Enrollment` as it was before the change (the workflow applies it "
        "asynchronously; re-read it to see the new status); `NotFound` for an unknown id; "
        "`Conflict` when the enrollment has ended; `Forbidden` without `manage_enrollments`.",
    ),
]


async def _enroll(
    info: Info, start: Callable[[str], Awaitable[EnrollOutcome]]
) -> ReenrollCustomerResult:
    """Run `start` (given the tenant) if the caller may manage enrollments; `Enrolled` or the
    expected failure (`ReentryNotAllowed` only from a re-enrollment)."""
    if not info.context.can(Permission.MANAGE_ENROLLMENTS):
        return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
    try:
        outcome = await start(info.context.tenant_id)
    except ReentryNotAllowedError as exc:
        return ReentryNotAllowed.of(exc)
    except NotFoundError as exc:
        return NotFound.of(exc)
    except ConflictError as exc:
        return Conflict.of(exc)
    return Enrolled(enrollment_id=outcome.enrollment_id, outcome=outcome.status)


async def _operate(
    info: Info, id: str, operation: Operation, reason: str | None = None
) -> EnrollmentOperationResult:
    if not info.context.can(Permission.MANAGE_ENROLLMENTS):
        return Forbidden.of(Permission.MANAGE_ENROLLMENTS)
    try:
        model = await info.context.services.enrollments.operate(
            info.context.tenant_id, id, operation, reason
        )
    except NotFoundError as exc:
        return NotFound.of(exc)
    except ConflictError as exc:
        return Conflict.of(exc)
    return Enrollment.of(model)


@strawberry.type
class EnrollmentMutations:
    @described_mutation(
        "Enroll a customer in a published journey's live version, by hand. Idempotent: a "
        "customer already enrolled answers `Enrolled` with outcome `already_enrolled`. Needs "
        "an operator or admin key (`manage_enrollments`)."
    )
    async def enroll_customer(
        self,
        info: Info,
        journey_id: Annotated[
            strawberry.ID, strawberry.argument(description="The journey; it must be published.")
        ],
        customer_id: Annotated[
            strawberry.ID, strawberry.argument(description="The customer to enroll.")
        ],
    ) -> EnrollCustomerResult:
        enrollments = info.context.services.enrollments
        return cast(
            "EnrollCustomerResult",
            await _enroll(
                info, lambda tenant_id: enrollments.enroll(tenant_id, journey_id, customer_id)
            ),
        )

    @described_mutation(
        "Enroll a customer in the journey's live version again, as its re-entry policy allows: "
        "`never` refuses once the customer has been enrolled, `after_exit` while an enrollment "
        "runs, `concurrent` always starts a new enrollment. Needs an operator or admin key "
        "(`manage_enrollments`)."
    )
    async def reenroll_customer(
        self,
        info: Info,
        journey_id: Annotated[strawberry.ID, strawberry.argument(description="The journey.")],
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer.")],
    ) -> ReenrollCustomerResult:
        enrollments = info.context.services.enrollments
        return await _enroll(
            info, lambda tenant_id: enrollments.reenroll(tenant_id, journey_id, customer_id)
        )

    @described_mutation(
        "Pause a running enrollment: it takes no step until resumed; timers and events that "
        "come due meanwhile are handled on resume. Answers the projection as it was. Needs an "
        "operator or admin key (`manage_enrollments`)."
    )
    async def pause_enrollment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=ENROLLMENT_ID)],
        reason: Annotated[
            str | None,
            strawberry.argument(
                description="Why, for the record (kept in the workflow history); optional."
            ),
        ] = None,
    ) -> EnrollmentOperationResult:
        return await _operate(info, id, "pause", reason)

    @described_mutation(
        "Resume a paused enrollment from where it stopped. Answers the projection as it was. "
        "Needs an operator or admin key (`manage_enrollments`)."
    )
    async def resume_enrollment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=ENROLLMENT_ID)],
    ) -> EnrollmentOperationResult:
        return await _operate(info, id, "resume")

    @described_mutation(
        "Cancel a running (active or paused) enrollment: it ends `CANCELLED` wherever it is. "
        "Answers the projection as it was. Needs an operator or admin key "
        "(`manage_enrollments`)."
    )
    async def cancel_enrollment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=ENROLLMENT_ID)],
        reason: Annotated[
            str | None,
            strawberry.argument(
                description="Why; becomes the enrollment's `exitReason` (default `cancelled`)."
            ),
        ] = None,
    ) -> EnrollmentOperationResult:
        return await _operate(info, id, "cancel", reason)
