"""Serving: the API (uvicorn) and the workers, in one event loop, until a stop signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Generator

import uvicorn
from temporalio.worker import Worker

from api.app import create_app
from runtime.resources import Resources
from runtime.worker import build_workers

log = logging.getLogger(__name__)


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


def api_server(resources: Resources) -> _Server:
    settings = resources.settings
    app = create_app(resources.store, resources.temporal, resources.registry)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        ws="websockets-sansio",
        lifespan="off",
    )
    return _Server(config)


def workers(resources: Resources) -> list[Worker]:
    return build_workers(
        resources.temporal,
        resources.store,
        resources.registry,
        resources.settings.channel_rate_limits,
    )


async def serve(
    resources: Resources,
    *,
    api: bool,
    worker: bool,
    ready: Callable[[], Awaitable[None]] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the API and/or the workers until `stop` (default: SIGINT/SIGTERM), then shut down."""
    stop = stop or stop_on_signals()
    running: list[Worker] = workers(resources) if worker else []
    server = api_server(resources) if api else None
    tasks = [asyncio.create_task(w.run()) for w in running]
    if server is not None:
        tasks.append(asyncio.create_task(server.serve()))
        for _ in range(600):  # uvicorn has no "started" event; give it up to 30 s
            if server.started or any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.05)
    if ready is not None:
        await ready()
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    if server is not None:
        server.should_exit = True
    await asyncio.gather(*(w.shutdown() for w in running), return_exceptions=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    stopped.cancel()
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
