"""`JourneyWorkflow`: one durable workflow per enrollment, a thin shell around the pure engine.

It turns the engine's commands into Temporal operations (activities, durable timers, conditions)
and feeds what happens back in as stimuli. Events arrive as signals, de-duplicated by event id;
entry by event uses signal-with-start (`workflows.client.enroll`). Progress (transitions and the
enrollment projection) is written to MongoDB by an activity after every step, insert-or-ignore,
so a replayed or retried step never writes twice. Long journeys continue-as-new with a compact
state when the server suggests it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import assert_never

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import models as act
    from domain.conditions import CustomerFacts
    from domain.engine import (
        ActionFinished,
        Cancel,
        Command,
        Complete,
        Engine,
        EngineState,
        EventReceived,
        EventRef,
        FactsLoaded,
        LoadFacts,
        MarkConverted,
        Migrated,
        RecordTransition,
        RunAction,
        Start,
        Stimulus,
        TimerFired,
        UpdateProfile,
        WaitForEvent,
        WaitUntil,
        new_state,
        next_wake,
        run_key,
    )
    from workflows import search_attributes as sa
    from workflows.calls import (
        ACTION_RETRY,
        CANCEL_PENDING_TASKS,
        HELD_ACTIONS,
        PROFILE_BEFORE_PROGRESS,
        RUN_SCOPED_DELIVERY_KEYS,
        Changes,
        held_for,
        issues_mass_messages,
        store_call,
    )
    from workflows.models import (
        CANCEL,
        DRAIN,
        SEEN_EVENT_IDS,
        CancelInput,
        EnrollmentView,
        EventSignal,
        JourneyInput,
        JourneyResult,
        MigrateInput,
        PauseInput,
    )

ENTRY_EVENT_GRACE = timedelta(seconds=30)


@workflow.defn(name="JourneyWorkflow")
class JourneyWorkflow:
    """Walks one customer through one journey version."""

    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        self._ref = input.enrollment
        self._state: EngineState = input.state or new_state(input.enrollment.enrollment_id)
        self._inbox: list[EventRef] = list(input.pending_events)
        self._seen: list[str] = list(input.seen_event_ids)
        self._paused = input.paused
        self._cancel: str | None = None
        self._migration: MigrateInput | None = None
        self._applied = 0
        self._revision = input.revision
        self._changes = Changes()

    # -- signals and queries --

    @workflow.signal
    def event(self, signal: EventSignal) -> None:
        """Deliver a customer event; an event id seen before is ignored."""
        if signal.event.id in self._seen:
            return
        self._seen = [*self._seen, signal.event.id][-SEEN_EVENT_IDS:]
        self._inbox.append(signal.event)

    @workflow.signal
    def pause(self, _: PauseInput) -> None:
        """Hold timers and events until `resume`; due timers fire on resume."""
        self._paused = True

    @workflow.signal
    def resume(self) -> None:
        self._paused = False

    @workflow.signal
    def migrate(self, signal: MigrateInput) -> None:
        """Move to another version at the next step (`MigrateInput`); the last one asked wins."""
        self._migration = signal

    @workflow.signal
    def cancel(self, signal: CancelInput) -> None:
        """End the enrollment as cancelled (wherever it is)."""
        self._cancel = signal.reason

    @workflow.query
    def state(self) -> EnrollmentView:
        return EnrollmentView(
            enrollment=self._ref,
            state=self._state,
            paused=self._paused,
            pending_events=len(self._inbox),
        )

    # -- main loop --

    @workflow.run
    async def run(self, input: JourneyInput) -> JourneyResult:
        self._last_input = input
        self._started_at = input.started_at or workflow.now()
        loaded = await store_call(
            act.LOAD_VERSION,
            act.LoadVersionInput(
                tenant_id=self._ref.tenant_id,
                journey_id=self._ref.journey_id,
                version=self._ref.version,
            ),
            act.LoadVersionResult,
            self._changes,
        )
        # Winners decided before this run loaded the version take over its splits (no command
        # changes: histories recorded before experiments replay as they ran).
        self._engine = Engine(loaded.definition, loaded.winners)
        if (
            not self._state.started
            and self._state.run is None
            and self._changes.has(RUN_SCOPED_DELIVERY_KEYS)
        ):
            # A re-entry starts a new run under the same id: its deliveries need their own keys.
            self._state = self._state.model_copy(update={"run": run_key(self._started_at)})
        if not self._state.started:
            await self._apply(Start(event=await self._entry_event(input.entry_event_id)))
        if input.migrate_to is not None and input.migrated_from is not None:
            await self._apply(Migrated(node_id=input.migrate_to, from_version=input.migrated_from))
        while not self._state.ended:
            if self._cancel is not None:
                await self._apply(Cancel(reason=self._cancel))
            elif self._paused:
                await self._progress([])
                await workflow.wait_condition(lambda: not self._paused or self._cancel is not None)
                await self._progress([])
            elif self._migration is not None:
                moved = self._moved(self._migration)
                self._migration = None
                if moved is not None:
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(moved)
            elif self._inbox:
                await self._apply(EventReceived(event=self._inbox.pop(0)))
            elif self._should_continue_as_new(input):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._next_input(input))
            else:
                await self._wait_for_something()
        await self._cancel_pending_tasks()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return JourneyResult(
            status=self._state.status,
            reason=self._state.exit_reason,
            converted=self._state.converted_at is not None,
            transitions=self._state.seq,
        )

    async def _cancel_pending_tasks(self) -> None:
        """An enrollment that exits (not one that converted) cancels the WeCom mass-message
        tasks it issued that nobody has confirmed yet, so staff are not asked to send them."""
        if self._state.status == "converted" or not issues_mass_messages(self._engine.definition):
            return
        if not self._changes.has(CANCEL_PENDING_TASKS):
            return
        try:
            await workflow.execute_activity(
                act.CANCEL_PENDING_TASKS,
                act.CancelPendingInput(enrollment=self._ref),
                result_type=act.CancelPendingResult,
                task_queue=act.channel_task_queue("wecom"),
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=timedelta(minutes=10),
            )
        except ActivityError:
            workflow.logger.warning(
                "pending WeCom tasks of %s not cancelled", self._ref.enrollment_id
            )

    async def _entry_event(self, entry_event_id: str | None) -> EventRef | None:
        if entry_event_id is None:
            return None
        try:
            await workflow.wait_condition(
                lambda: any(e.id == entry_event_id for e in self._inbox), timeout=ENTRY_EVENT_GRACE
            )
        except TimeoutError:
            return None
        entry = next(e for e in self._inbox if e.id == entry_event_id)
        self._inbox.remove(entry)
        return entry

    async def _wait_for_something(self) -> None:
        until = next_wake(self._state)
        waiting = self._state.waiting
        timeout = None if until is None else until - workflow.now()
        if waiting is not None and timeout is not None and timeout <= timedelta(0):
            await self._apply(TimerFired(node_id=waiting.node_id))
            return
        try:
            await workflow.wait_condition(
                lambda: (
                    bool(self._inbox)
                    or self._paused
                    or self._cancel is not None
                    or self._migration is not None
                ),
                timeout=timeout,
            )
        except TimeoutError:
            if waiting is not None:
                await self._apply(TimerFired(node_id=waiting.node_id))

    def _should_continue_as_new(self, input: JourneyInput) -> bool:
        if workflow.info().is_continue_as_new_suggested():
            return True
        limit = input.continue_as_new_after
        return limit is not None and self._applied >= limit

    def _moved(self, migration: MigrateInput) -> JourneyInput | None:
        """The input continuing this enrollment on the migration's version, or None when it
        stays (drained, unmapped, or already there); a `cancel` mapping cancels it."""
        target = migration.mapping.get(self._state.current or "")
        if target is None or target == DRAIN or migration.version == self._ref.version:
            return None
        if target == CANCEL:
            self._cancel = f"migration to v{migration.version}"
            return None
        current = self._input_for_next_run()
        return current.model_copy(
            update={
                "enrollment": self._ref.model_copy(update={"version": migration.version}),
                "migrated_from": self._ref.version,
                "migrate_to": target,
            }
        )

    def _next_input(self, input: JourneyInput) -> JourneyInput:
        self._last_input = input
        return self._input_for_next_run()

    def _input_for_next_run(self) -> JourneyInput:
        return self._last_input.model_copy(
            update={
                "migrated_from": None,
                "migrate_to": None,
                "entry_event_id": None,
                "started_at": self._started_at,
                "state": self._state,
                "seen_event_ids": self._seen,
                "pending_events": self._inbox,
                "paused": self._paused,
                "revision": self._revision,
            }
        )

    # -- stimuli in, commands out --

    async def _apply(self, stimulus: Stimulus) -> None:
        pending: list[Stimulus] = [stimulus]
        while pending:
            self._applied += 1
            self._state, commands = self._engine.advance(
                self._state, pending.pop(0), workflow.now()
            )
            transitions = [c for c in commands if isinstance(c, RecordTransition)]
            if self._changes.has(PROFILE_BEFORE_PROGRESS):
                # readers of the projection see a step's profile changes once it shows the step
                for command in commands:
                    if isinstance(command, UpdateProfile):
                        await self._update_profile(command)
                commands = [c for c in commands if not isinstance(c, UpdateProfile)]
            await self._progress(transitions)
            for command in commands:
                follow_up = await self._execute(command)
                if follow_up is not None:
                    pending.append(follow_up)

    async def _execute(self, command: Command) -> Stimulus | None:
        """Carry out one command; a new command kind fails type checking until handled here."""
        match command:
            case RunAction():
                return await self._run_action(command)
            case LoadFacts():
                return await self._load_facts(command)
            case UpdateProfile():
                await self._update_profile(command)
                return None
            case RecordTransition() | WaitUntil() | WaitForEvent() | MarkConverted() | Complete():
                # transitions went to `_progress`; waits, conversion and completion live in
                # the state (`_wait_for_something` waits on it, `run` ends on it)
                return None
            case _:
                assert_never(command)

    async def _run_action(self, command: RunAction) -> Stimulus | None:
        while True:
            try:
                result = await workflow.execute_activity(
                    act.RUN_ACTION,
                    act.RunActionInput(
                        enrollment=self._ref,
                        node_id=command.node_id,
                        channel=command.channel,
                        action=command.action,
                        params=command.params,
                        idempotency_key=command.idempotency_key,
                        trigger_event_id=command.last_event_id,
                        respect_quiet_hours=command.respect_quiet_hours,
                        when_capped=command.when_capped,
                    ),
                    result_type=act.RunActionResult,
                    task_queue=act.channel_task_queue(command.channel),
                    start_to_close_timeout=timedelta(seconds=60),
                    schedule_to_close_timeout=timedelta(days=1),
                    retry_policy=ACTION_RETRY,
                )
            except ActivityError as err:
                cause = err.cause if err.cause is not None else err
                delay = held_for(cause)
                if delay is not None and self._changes.has(HELD_ACTIONS):
                    # The tenant's quiet hours or a full frequency cap (`activities.gates`):
                    # wait, then run the action again under the same key. A cancel ends the
                    # wait with no outcome (the main loop then cancels: no `failed` edge is
                    # taken); a pause holds the retry until it is resumed.
                    try:
                        await workflow.wait_condition(
                            lambda: self._cancel is not None, timeout=delay
                        )
                    except TimeoutError:
                        await workflow.wait_condition(
                            lambda: not self._paused or self._cancel is not None
                        )
                        if self._cancel is None:
                            continue
                    return None
                return ActionFinished(node_id=command.node_id, succeeded=False, error=str(cause))
            return ActionFinished(
                node_id=command.node_id, succeeded=result.status == "succeeded", error=result.error
            )

    async def _load_facts(self, command: LoadFacts) -> Stimulus:
        facts = await store_call(
            act.LOAD_FACTS,
            act.LoadFactsInput(
                tenant_id=self._ref.tenant_id,
                customer_id=self._ref.customer_id,
                last_event_id=command.last_event_id,
            ),
            CustomerFacts,
            self._changes,
        )
        return FactsLoaded(node_id=command.node_id, facts=facts)

    async def _update_profile(self, command: UpdateProfile) -> None:
        await store_call(
            act.UPDATE_PROFILE,
            act.UpdateProfileInput(enrollment=self._ref, update=command, at=workflow.now()),
            act.UpdateProfileResult,
            self._changes,
        )

    async def _progress(self, transitions: list[RecordTransition]) -> None:
        self._revision += 1
        await store_call(
            act.RECORD_PROGRESS,
            act.RecordProgressInput(
                enrollment=self._ref,
                state=self._state,
                paused=self._paused,
                transitions=transitions,
                revision=self._revision,
                started_at=self._started_at,
                at=workflow.now(),
            ),
            act.RecordProgressResult,
            self._changes,
        )
        status = "paused" if self._paused and not self._state.ended else self._state.status
        workflow.upsert_search_attributes(
            [sa.NODE.value_set(self._state.current or ""), sa.STATUS.value_set(status)]
        )
