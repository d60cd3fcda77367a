"""Serving: the API (uvicorn), the workers and the mass-message result poller, in one event loop,
until a stop signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Generator
from datetime import timedelta

import uvicorn
from starlette.applications import Starlette
from temporalio.worker import Worker

from api.app import create_app
from api.rate_limit import AbuseLimits
from connectors.wechat import WeChatCodec
from connectors.wecom.envelope import CallbackCodec
from ingestion.service import IngestService
from runtime.resources import Resources
from runtime.settings import Settings
from runtime.wecom_results import MassMessageResultPoller
from runtime.worker import WorkerTuning, build_workers

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 30.0
"""How often the API looks for work a dead process left: events stored but never routed, bulk
operations whose lease ran out, half-done customer merges (`ingestion.sweeps`)."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the main decides when everything stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def api_app(resources: Resources, temporal_ui_url: str | None = None) -> Starlette:
    """The API over the process's resources, WeCom callbacks and code provisioning and WeChat
    message pushes included."""
    return create_app(
        resources.store,
        resources.temporal,
        resources.registry,
        wecom_codec=CallbackCodec(),
        provisioner=resources.wecom,
        wecom_groups=resources.wecom,
        temporal_ui_url=temporal_ui_url,
        abuse=abuse_limits(resources.settings),
        wechat_codec=WeChatCodec(),
        email_hosts=resources.email.guard,
    )


def abuse_limits(settings: Settings) -> AbuseLimits:
    """The API's per-key and per-websocket limits, from the settings."""
    return AbuseLimits(
        requests_per_second=settings.api_rate_limit or None,
        burst=settings.api_rate_limit_burst,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
    )


def api_server(app: Starlette, resources: Resources, *, access_log: bool = True) -> _Server:
    settings = resources.settings
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=access_log,
        ws="websockets-sansio",
        lifespan="off",
    )
    return _Server(config)


def worker_tuning(settings: Settings) -> WorkerTuning:
    """The workers' cache size and task slots, from the settings."""
    return WorkerTuning(
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
    )


def workers(resources: Resources) -> list[Worker]:
    """The workers of this process, tuned by the settings."""
    return build_workers(
        resources.temporal,
        resources.store,
        resources.registry,
        resources.settings.channel_rate_limits,
        sandbox=resources.settings.workflow_sandbox,
        tuning=worker_tuning(resources.settings),
    )


def result_poller(
    resources: Resources, interval: float, max_age: timedelta | None = None
) -> MassMessageResultPoller:
    """The poller turning WeCom's mass-message results into `wecom.mass_message.result` events
    (for tasks younger than `max_age`, default the poller's own)."""
    ingest = IngestService(resources.store, resources.temporal)
    if max_age is None:
        return MassMessageResultPoller(resources.store, resources.wecom_client, ingest, interval)
    return MassMessageResultPoller(
        resources.store,
        resources.wecom_client,
        ingest,
        interval,
        max_age=max_age,
        grace=timedelta(0),
    )


async def serve(
    resources: Resources,
    *,
    api: bool,
    worker: bool,
    ready: Callable[[], Awaitable[None]] | None = None,
    stop: asyncio.Event | None = None,
    poll_interval: float | None = None,
    poll_max_age: timedelta | None = None,
    temporal_ui_url: str | None = None,
    access_log: bool = True,
) -> None:
    """Run the API and/or the workers until `stop` (default: SIGINT/SIGTERM), then shut down.

    With `worker`, the mass-message result poller runs too, every `poll_interval` seconds
    (default: the settings' value for a process without the simulator), over tasks younger than
    `poll_max_age` (default: the poller's).
    """
    stop = stop or stop_on_signals()
    running: list[Worker] = workers(resources) if worker else []
    app = api_app(resources, temporal_ui_url) if api else None
    server = api_server(app, resources, access_log=access_log) if app is not None else None
    tasks = [asyncio.create_task(w.run()) for w in running]
    poller: asyncio.Task[None] | None = None
    if worker:
        interval = poll_interval or resources.settings.result_poll_interval(simulated=False)
        poller = asyncio.create_task(result_poller(resources, interval, poll_max_age).run())
    if server is not None:
        tasks.append(asyncio.create_task(server.serve()))
        for _ in range(600):  # uvicorn has no "started" event; give it up to 30 s
            if server.started or any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.05)
    if app is not None:
        app.state.services.start_sweeps(SWEEP_INTERVAL_SECONDS)
    if ready is not None:
        await ready()
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    if app is not None:
        await app.state.services.sweeps.stop()
        # Bulk operations stop here and stay `running`; their lease lets another process resume.
        await app.state.services.operations.aclose()
    if poller is not None:
        poller.cancel()
    if server is not None:
        server.should_exit = True
    await asyncio.gather(*(w.shutdown() for w in running), return_exceptions=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    if app is not None:
        # Events of acknowledged callbacks may still be routing to their journeys.
        await app.state.services.wecom_callbacks.drain()
    stopped.cancel()
    if poller is not None:
        await asyncio.gather(poller, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
