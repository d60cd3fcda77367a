"""Temporal history events told as readable steps: one handler per event type (`_HANDLERS`),
each adding a step of a `StepKind`.

The renderer walks one run's events in order, remembering what later events refer back to (an
activity's name and attempt, a timer's duration). Workflow-task bookkeeping, markers and
activity starts make no step (they stay in the raw events). Payloads are decoded with the
client's data converter (codec included); one that does not decode is left out of the summary
rather than failing the history.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter, PayloadConverter

from api.services.history.steps import HistoryStep, human_duration
from api.services.history.steps import StepKind as K
from workflows import search_attributes


class _Renderer:
    """Walks one run's events in order, remembering what later events refer back to."""

    def __init__(self, converter: DataConverter) -> None:
        self._converter = converter
        self._activities: dict[int, str] = {}
        self._attempts: dict[int, int] = {}
        self._timers: dict[int, timedelta] = {}
        self.steps: list[HistoryStep] = []
        self.continued_from: str | None = None

    async def _value(self, payloads: Payloads) -> Any:
        if not payloads.payloads:
            return None
        try:
            values = await self._converter.decode(list(payloads.payloads))
        except Exception:  # a payload we cannot read must not hide the rest of the history
            return None
        return values[0] if values else None

    def _add(self, event: HistoryEvent, kind: K, summary: str, **extra: Any) -> None:
        at = event.event_time.ToDatetime(tzinfo=UTC)
        self.steps.append(HistoryStep(event.event_id, at, kind, summary, **extra))

    async def event(self, event: HistoryEvent) -> None:
        handler = _HANDLERS.get(event.event_type)
        if handler is not None:
            await handler(self, event)

    async def _started(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_started_event_attributes
        summary = f"workflow {attrs.workflow_type.name} started on {attrs.task_queue.name}"
        if attrs.continued_execution_run_id:
            self.continued_from = attrs.continued_execution_run_id
            summary += f", continuing run {attrs.continued_execution_run_id}"
        self._add(event, K.WORKFLOW_STARTED, summary)

    async def _activity_scheduled(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_scheduled_event_attributes
        name = attrs.activity_type.name
        value = await self._value(attrs.input)
        if isinstance(value, dict) and {"channel", "action"} <= value.keys():
            # a channel action: name it by what it does, not by the generic activity
            name = f"channel.{value['channel']}.{value['action']}"
            if value.get("node_id"):
                name += f" (node {value['node_id']})"
        self._activities[event.event_id] = name
        self._add(
            event,
            K.ACTIVITY_SCHEDULED,
            f"activity {name} scheduled on {attrs.task_queue.name}",
            activity=name,
        )

    async def _activity_started(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_started_event_attributes
        self._attempts[attrs.scheduled_event_id] = attrs.attempt

    def _activity(self, scheduled_event_id: int) -> tuple[str, int]:
        name = self._activities.get(scheduled_event_id, f"#{scheduled_event_id}")
        return name, self._attempts.get(scheduled_event_id, 1)

    async def _activity_completed(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_completed_event_attributes
        name, attempt = self._activity(attrs.scheduled_event_id)
        summary = f"activity {name} completed on attempt {attempt}"
        result = await self._value(attrs.result)
        failure = None
        if isinstance(result, dict) and result.get("status") in ("succeeded", "failed"):
            summary += f": delivery {result['status']}"
            failure = result.get("error")
            if failure:
                summary += f" ({failure})"
        self._add(
            event, K.ACTIVITY_COMPLETED, summary, activity=name, attempt=attempt, failure=failure
        )

    async def _activity_failed(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_failed_event_attributes
        name, attempt = self._activity(attrs.scheduled_event_id)
        message = attrs.failure.message
        self._add(
            event,
            K.ACTIVITY_FAILED,
            f"activity {name} failed on attempt {attempt}: {message}",
            activity=name,
            attempt=attempt,
            failure=message,
        )

    async def _activity_timed_out(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_timed_out_event_attributes
        name, attempt = self._activity(attrs.scheduled_event_id)
        self._add(
            event,
            K.ACTIVITY_TIMED_OUT,
            f"activity {name} timed out on attempt {attempt}",
            activity=name,
            attempt=attempt,
            failure=attrs.failure.message or None,
        )

    async def _activity_cancelled(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_canceled_event_attributes
        name, attempt = self._activity(attrs.scheduled_event_id)
        self._add(
            event,
            K.ACTIVITY_CANCELLED,
            f"activity {name} cancelled",
            activity=name,
            attempt=attempt,
        )

    async def _timer_started(self, event: HistoryEvent) -> None:
        duration = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        self._timers[event.event_id] = duration
        self._add(event, K.TIMER_STARTED, f"timer started: {human_duration(duration)}")

    async def _timer_fired(self, event: HistoryEvent) -> None:
        duration = self._timers.get(event.timer_fired_event_attributes.started_event_id)
        after = "" if duration is None else f" after {human_duration(duration)}"
        self._add(event, K.TIMER_FIRED, f"timer fired{after}")

    async def _timer_cancelled(self, event: HistoryEvent) -> None:
        duration = self._timers.get(event.timer_canceled_event_attributes.started_event_id)
        of = "" if duration is None else f" ({human_duration(duration)})"
        self._add(event, K.TIMER_CANCELLED, f"timer cancelled{of}: the wait ended early")

    async def _signalled(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_signaled_event_attributes
        value = await self._value(attrs.input)
        summary = f"signal {attrs.signal_name} received"
        if isinstance(value, dict):
            inner = value.get("event")
            if isinstance(inner, dict) and inner.get("type"):
                summary += f": {inner['type']} (event {inner.get('id')})"
            elif value.get("reason"):
                summary += f": {value['reason']}"
        self._add(event, K.SIGNAL_RECEIVED, summary)

    async def _search_attributes(self, event: HistoryEvent) -> None:
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        values: dict[str, Any] = {}
        for key, payload in fields.indexed_fields.items():
            values[key] = _plain(payload)
        node, status = (
            values.get(search_attributes.NODE.name),
            values.get(search_attributes.STATUS.name),
        )
        if node is None and status is None:
            return
        summary = f"now at node {node}" if node else "state recorded"
        if status:
            summary += f" ({status})"
        self._add(event, K.STATE_RECORDED, summary)

    async def _update(self, event: HistoryEvent) -> None:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            self._add(event, K.UPDATE, f"update {request.input.name} accepted")
        else:
            self._add(event, K.UPDATE, "update completed")

    async def _task_failed(self, event: HistoryEvent) -> None:
        attrs = event.workflow_task_failed_event_attributes
        cause = _cause_name(attrs.cause)
        message = attrs.failure.message
        self._add(
            event,
            K.WORKFLOW_TASK_FAILED,
            f"workflow task failed ({cause}): {message}",
            failure=message,
        )

    async def _completed(self, event: HistoryEvent) -> None:
        result = await self._value(event.workflow_execution_completed_event_attributes.result)
        summary = "workflow completed"
        if isinstance(result, dict) and result.get("status"):
            summary += f": {result['status']}"
            if result.get("reason"):
                summary += f" ({result['reason']})"
        self._add(event, K.WORKFLOW_COMPLETED, summary)

    async def _failed(self, event: HistoryEvent) -> None:
        message = event.workflow_execution_failed_event_attributes.failure.message
        self._add(event, K.WORKFLOW_FAILED, f"workflow failed: {message}", failure=message)

    async def _terminated(self, event: HistoryEvent) -> None:
        reason = event.workflow_execution_terminated_event_attributes.reason
        self._add(event, K.WORKFLOW_TERMINATED, f"workflow terminated: {reason or 'no reason'}")

    async def _cancel_requested(self, event: HistoryEvent) -> None:
        self._add(event, K.CANCEL_REQUESTED, "workflow cancellation requested")

    async def _cancelled(self, event: HistoryEvent) -> None:
        self._add(event, K.WORKFLOW_CANCELLED, "workflow cancelled")

    async def _timed_out(self, event: HistoryEvent) -> None:
        self._add(event, K.WORKFLOW_TIMED_OUT, "workflow timed out")

    async def _continued(self, event: HistoryEvent) -> None:
        run = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        self._add(event, K.CONTINUED_AS_NEW, f"continued as new run {run}")


def _cause_name(value: int) -> str:
    name = WorkflowTaskFailedCause.Name(value)  # type: ignore[arg-type]  # protobuf int enum
    return name.removeprefix("WORKFLOW_TASK_FAILED_CAUSE_").lower()


def _plain(payload: Payload) -> Any:
    try:
        return PayloadConverter.default.from_payloads([payload])[0]
    except Exception:  # search attributes are plain JSON; anything else is not worth failing on
        return None


E = EventType
_HANDLERS = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: _Renderer._started,
    E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: _Renderer._activity_scheduled,
    E.EVENT_TYPE_ACTIVITY_TASK_STARTED: _Renderer._activity_started,
    E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: _Renderer._activity_completed,
    E.EVENT_TYPE_ACTIVITY_TASK_FAILED: _Renderer._activity_failed,
    E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: _Renderer._activity_timed_out,
    E.EVENT_TYPE_ACTIVITY_TASK_CANCELED: _Renderer._activity_cancelled,
    E.EVENT_TYPE_TIMER_STARTED: _Renderer._timer_started,
    E.EVENT_TYPE_TIMER_FIRED: _Renderer._timer_fired,
    E.EVENT_TYPE_TIMER_CANCELED: _Renderer._timer_cancelled,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: _Renderer._signalled,
    E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: _Renderer._search_attributes,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: _Renderer._update,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: _Renderer._update,
    E.EVENT_TYPE_WORKFLOW_TASK_FAILED: _Renderer._task_failed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: _Renderer._completed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: _Renderer._failed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: _Renderer._terminated,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED: _Renderer._cancel_requested,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: _Renderer._cancelled,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: _Renderer._timed_out,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: _Renderer._continued,
}


async def render_steps(
    events: list[HistoryEvent], converter: DataConverter
) -> tuple[list[HistoryStep], str | None]:
    """The readable steps of one run's events, and the run it continued from (if any)."""
    renderer = _Renderer(converter)
    for event in events:
        await renderer.event(event)
    return renderer.steps, renderer.continued_from
