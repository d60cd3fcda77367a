"""Operating enrollments: enrolling a customer by hand, pausing, resuming and cancelling.

Operations are signals to the enrollment's workflow; the MongoDB projection catches up when the
workflow records its next step, so callers get the projection as it stood when they asked.
"""

from __future__ import annotations

import secrets
from typing import Literal

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.customers import Customer
from domain.enrollments import RUNNING_STATUSES, Enrollment
from domain.errors import ConflictError, NotFoundError, ReentryNotAllowedError
from ingestion.merges import MergeService
from store.database import Store
from store.journeys import JourneyVersion
from workflows import client as journeys_client
from workflows.client import EnrollOutcome

Operation = Literal["pause", "resume", "cancel"]


class EnrollmentService:
    """Enrollment operations for a tenant, through the workflow client helpers."""

    def __init__(self, store: Store, temporal: Client, merges: MergeService | None = None) -> None:
        self._store = store
        self._temporal = temporal
        self._merges = merges or MergeService(store, temporal)

    async def _live(
        self, tenant_id: str, journey_id: str, customer_id: str
    ) -> tuple[Customer, JourneyVersion]:
        """The customer and the journey's live version; `NotFoundError`, or `ConflictError` when the
        journey is not published."""
        journey = await self._store.journeys.get(tenant_id, journey_id)
        if journey.status != "published" or journey.live_version is None:
            raise ConflictError(f"journey {journey_id!r} is {journey.status}; publish it first")
        customer = await self._store.customers.get(tenant_id, customer_id)
        version = await self._store.journeys.get_version(
            tenant_id, journey_id, journey.live_version
        )
        return customer, version

    async def enroll(self, tenant_id: str, journey_id: str, customer_id: str) -> EnrollOutcome:
        """Start an enrollment on the journey's live version.

        `NotFoundError` (journey or customer), `ConflictError` when the journey is not published.
        An enrollment of a customer merged into this one counts as the customer's
        (`already_enrolled`, as `ingestion.merges` explains).
        """
        customer, version = await self._live(tenant_id, journey_id, customer_id)
        reentry = version.definition.entry.reentry
        # A manual enrollment has no entry event to take a key from: each one is its own entry.
        entry_key = f"manual-{secrets.token_hex(6)}" if reentry.mode == "concurrent" else None
        stand_in = await self._merges.stand_in(
            tenant_id, journey_id, customer.id, reentry.mode, entry_key, None
        )
        if stand_in is not None:
            return EnrollOutcome(stand_in[0], "already_enrolled")
        return await journeys_client.enroll(
            self._temporal,
            tenant_id=tenant_id,
            journey_id=journey_id,
            version=version.version,
            customer_id=customer.id,
            reentry=reentry.mode,
            entry_key=entry_key,
        )

    async def reenroll(self, tenant_id: str, journey_id: str, customer_id: str) -> EnrollOutcome:
        """Enroll a customer again, as the journey's re-entry policy allows.

        `never`: refused once the customer has any enrollment in the journey; `after_exit`:
        refused while one is running; `concurrent`: always a new enrollment. Refusals raise
        `ReentryNotAllowedError` naming the enrollment in the way; otherwise as `enroll`.
        """
        customer, version = await self._live(tenant_id, journey_id, customer_id)
        policy = version.definition.entry.reentry.mode
        previous = await self._store.enrollments.list(
            tenant_id, journey_id=journey_id, customer_id=customer.id, limit=1
        )
        running = await self._store.enrollments.list(
            tenant_id,
            journey_id=journey_id,
            customer_id=customer.id,
            status=list(RUNNING_STATUSES),
            limit=1,
        )
        if policy == "never" and previous.items:
            raise ReentryNotAllowedError(
                journey_id, policy, previous.items[0].id, "the customer has been enrolled"
            )
        if policy == "after_exit" and running.items:
            raise ReentryNotAllowedError(
                journey_id, policy, running.items[0].id, "the customer's enrollment is running"
            )
        outcome = await self.enroll(tenant_id, journey_id, customer.id)
        if outcome.status == "already_enrolled":
            raise ReentryNotAllowedError(
                journey_id, policy, outcome.enrollment_id, "the customer is already enrolled"
            )
        return outcome

    async def operate(
        self, tenant_id: str, enrollment_id: str, operation: Operation, reason: str | None = None
    ) -> Enrollment:
        """Ask a running enrollment to pause, resume or cancel; the projection before the change.

        `NotFoundError` when the tenant has no such enrollment, `ConflictError` when it has ended.
        """
        enrollment = await self._store.enrollments.get(tenant_id, enrollment_id)
        if enrollment is None:
            raise NotFoundError("enrollment", enrollment_id)
        if not enrollment.running:
            raise ConflictError(f"enrollment {enrollment_id!r} has ended ({enrollment.status})")
        try:
            if operation == "pause":
                await journeys_client.pause(self._temporal, enrollment.id, reason)
            elif operation == "resume":
                await journeys_client.resume(self._temporal, enrollment.id)
            else:
                await journeys_client.cancel(self._temporal, enrollment.id, reason or "cancelled")
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                # The projection has not caught up with a workflow that just ended.
                raise ConflictError(f"enrollment {enrollment_id!r} has ended") from exc
            raise
        return enrollment
