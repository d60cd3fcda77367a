"""Fetching one run of an enrollment's workflow history from Temporal, and its Temporal UI link."""

from __future__ import annotations

import logging
from urllib.parse import quote

from google.protobuf.json_format import MessageToDict
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.services.history.renderer import render_steps
from api.services.history.steps import EnrollmentHistory, HistoryUnavailableError

log = logging.getLogger(__name__)


def temporal_ui_url(
    base: str | None, namespace: str, workflow_id: str, run_id: str | None = None
) -> str | None:
    """The Temporal Web UI page of a workflow (of one run's history when `run_id` is given)."""
    if not base:
        return None
    url = f"{base.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows/"
    url += quote(workflow_id, safe="")
    return f"{url}/{quote(run_id, safe='')}/history" if run_id else url


async def enrollment_history(
    client: Client,
    workflow_id: str,
    *,
    run_id: str | None = None,
    include_raw_events: bool = False,
    ui_base_url: str | None = None,
) -> EnrollmentHistory:
    """Fetch one run's history from Temporal (the latest run unless `run_id` is given).

    `HistoryUnavailableError` when Temporal has none or cannot be reached.
    """
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        history = await handle.fetch_history()
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise HistoryUnavailableError(
                "Temporal has no history for this enrollment: it never started, or its "
                "retention period has passed"
            ) from exc
        log.warning("fetching the history of %s failed: %s", workflow_id, exc)
        raise HistoryUnavailableError("Temporal could not be reached; try again") from exc
    if not history.events:
        raise HistoryUnavailableError("Temporal returned an empty history")
    steps, continued_from = await render_steps(list(history.events), client.data_converter)
    current_run = history.run_id
    return EnrollmentHistory(
        workflow_id=workflow_id,
        run_id=current_run,
        continued_from_run_id=continued_from,
        steps=steps,
        raw_events=[MessageToDict(event) for event in history.events]
        if include_raw_events
        else None,
        ui_url=temporal_ui_url(ui_base_url, client.namespace, workflow_id, current_run),
        event_count=len(history.events),
        namespace=client.namespace,
    )
