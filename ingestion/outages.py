"""A backing service's outage told apart from a bug (answered 503 by `api.unavailable`)."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure
from temporalio.service import RPCError, RPCStatusCode

_CHAIN_DEPTH = 8
_TEMPORAL_UNREACHABLE = "Failed client connect"


def unavailable_dependency(exc: BaseException | None) -> str | None:
    """`mongodb` or `temporal` when `exc` (or what caused it) is that service being out of reach."""
    for _ in range(_CHAIN_DEPTH):
        if exc is None:
            return None
        if isinstance(exc, ConnectionFailure):
            return "mongodb"
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.UNAVAILABLE:
            return "temporal"
        # The SDK's (lazily connecting) client reports a server it cannot reach this way.
        if isinstance(exc, RuntimeError) and str(exc).startswith(_TEMPORAL_UNREACHABLE):
            return "temporal"
        exc = exc.__cause__ or exc.__context__
    return None
