"""Activities the journey workflow runs on its own task queue: versions, facts, profile, progress.

A published version's definition never changes, so `load_version` keeps what it read per worker
process, unless the version has an experiment still waiting for its winner: that one is read each
time, so a winner decided takes over the splits of every run that loads the version afterwards.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import models as act
from domain.conditions import CustomerFacts
from domain.enrollments import Enrollment, EnrollmentStatus, Transition, WaitInfo
from domain.errors import NotFoundError
from domain.journey import SplitNode
from store.caching import TtlCache
from store.database import Store

CACHED_VERSIONS = 2_000

_WAIT_KINDS = {
    "timer": "timer",
    "quiet_hours": "timer",
    "event": "event",
    "action": "action",
    "facts": "action",
}


def projection(progress: act.RecordProgressInput) -> Enrollment:
    """The MongoDB projection of an enrollment's engine state."""
    ref, state, paused = progress.enrollment, progress.state, progress.paused
    status: EnrollmentStatus = "paused" if paused and not state.ended else state.status
    waiting = state.waiting
    wait = None
    if waiting is not None and not state.ended:
        wait = WaitInfo(
            kind=_WAIT_KINDS[waiting.kind],
            until=waiting.until,
            event_type=waiting.event_type,
        )
    return Enrollment(
        id=ref.enrollment_id,
        tenant_id=ref.tenant_id,
        journey_id=ref.journey_id,
        version=ref.version,
        customer_id=ref.customer_id,
        entry_key=ref.entry_key,
        status=status,
        current_node=state.current,
        wait=wait,
        path=state.path,
        converted_at=state.converted_at,
        goal_id=state.goal_id,
        exit_reason=state.exit_reason,
        started_at=progress.started_at,
        updated_at=progress.at,
        ended_at=progress.at if state.ended else None,
        seq=progress.revision,
    )


class JourneyActivities:
    """Store-backed activities; built once per worker with its `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._versions: TtlCache[tuple[str, str, int], act.LoadVersionResult] = TtlCache(
            None, max_entries=CACHED_VERSIONS
        )

    @activity.defn(name=act.LOAD_VERSION)
    async def load_version(self, input: act.LoadVersionInput) -> act.LoadVersionResult:
        key = (input.tenant_id, input.journey_id, input.version)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        try:
            version = await self.store.journeys.get_version(*key)
        except NotFoundError as err:
            raise ApplicationError(str(err), type="NotFound", non_retryable=True) from err
        winners = {node_id: d.variant_id for node_id, d in version.experiment_decisions.items()}
        loaded = act.LoadVersionResult(definition=version.definition, winners=winners)
        undecided = any(
            isinstance(node, SplitNode) and node.winner is not None and node.id not in winners
            for node in version.definition.nodes
        )
        if not undecided:
            self._versions.put(key, loaded)
        return loaded

    @activity.defn(name=act.RECORD_PROGRESS)
    async def record_progress(self, input: act.RecordProgressInput) -> act.RecordProgressResult:
        ref = input.enrollment
        transitions = [
            Transition(
                tenant_id=ref.tenant_id,
                enrollment_id=ref.enrollment_id,
                journey_id=ref.journey_id,
                version=ref.version,
                customer_id=ref.customer_id,
                seq=t.seq,
                run_started_at=input.started_at,
                from_node=t.from_node,
                to_node=t.to_node,
                label=t.label,
                at=t.at,
                reason=t.reason,
            )
            for t in input.transitions
        ]
        inserted = (
            await self.store.enrollments.record_transitions(transitions) if transitions else 0
        )
        await self.store.enrollments.upsert_projection(projection(input))
        return act.RecordProgressResult(transitions_inserted=inserted)

    @activity.defn(name=act.LOAD_FACTS)
    async def load_facts(self, input: act.LoadFactsInput) -> CustomerFacts:
        customer = await self.store.customers.get(input.tenant_id, input.customer_id)
        last_properties = {}
        if input.last_event_id is not None:
            event = await self.store.events.get(input.tenant_id, input.last_event_id)
            if event is not None:
                last_properties = dict(event.properties)
        return CustomerFacts(
            tags=frozenset(customer.tags),
            attributes=dict(customer.attributes),
            identity_kinds=frozenset(identity.kind for identity in customer.identities),
            last_event_properties=last_properties,
        )

    @activity.defn(name=act.UPDATE_PROFILE)
    async def update_profile(self, input: act.UpdateProfileInput) -> act.UpdateProfileResult:
        update = input.update
        await self.store.customers.update_profile(
            input.enrollment.tenant_id,
            input.enrollment.customer_id,
            input.at,
            add_tags=update.add_tags,
            remove_tags=update.remove_tags,
            set_attributes=update.set_attributes,
            unset_attributes=update.unset_attributes,
        )
        return act.UpdateProfileResult(applied=True)
