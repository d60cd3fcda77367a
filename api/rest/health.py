"""Health: `GET /livez` (the process answers) and `GET /readyz` (it can do its work).

- `/livez` checks nothing outside the process: 200 while the event loop serves requests. For a
  liveness probe: failing it means restart the process; a MongoDB outage must not do that.
- `/readyz` checks MongoDB (`ping`) and Temporal (the frontend's health check) at once, each
  within `CHECK_TIMEOUT_SECONDS`: 200 when both answer, else 503 naming what is down. For a
  readiness probe and the compose healthcheck: send no traffic while it fails.
- `/healthz` is kept as an alias of `/readyz` (what it always checked).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.services.container import Services

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


async def _check(name: str, probe: Awaitable[object]) -> str:
    try:
        answer = await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("readiness check of %s failed", name, exc_info=True)
        return "unavailable"
    return "ok" if answer is not False else "unavailable"


async def live(request: Request) -> JSONResponse:
    """The handler of `GET /livez`."""
    return JSONResponse({"status": "ok"})


class HealthEndpoint:
    """The handler of `GET /readyz` (and `/healthz`)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def handle(self, request: Request) -> JSONResponse:
        mongodb, temporal = await asyncio.gather(
            _check("mongodb", self._services.store.ping()),
            _check("temporal", self._services.temporal.service_client.check_health()),
        )
        checks = {"mongodb": mongodb, "temporal": temporal}
        healthy = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "checks": checks},
            status_code=200 if healthy else 503,
        )
