"""`GET /healthz`: 200 when MongoDB and Temporal both answer, else 503 naming what is down."""

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
        logger.warning("health check of %s failed", name, exc_info=True)
        return "unavailable"
    return "ok" if answer is not False else "unavailable"


class HealthEndpoint:
    """The handler of `GET /healthz`."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def handle(self, request: Request) -> JSONResponse:
        checks = {
            "mongodb": await _check("mongodb", self._services.store.ping()),
            "temporal": await _check(
                "temporal", self._services.temporal.service_client.check_health()
            ),
        }
        healthy = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "checks": checks},
            status_code=200 if healthy else 503,
        )
