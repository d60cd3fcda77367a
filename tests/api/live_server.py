"""The app served by a real uvicorn at 127.0.0.1, for tests that need a socket (websockets,
an out-of-process client)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.types import ASGIApp

from runtime.processes import free_port


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: the test decides when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[int]:
    """`app` on uvicorn at 127.0.0.1 on a free port (websockets enabled); yields the port once
    the server is listening, and stops it on the way out."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    # Inside `try`: a server that never starts is still stopped and awaited, not left running.
    try:
        for _ in range(400):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        await task
