"""The ASGI application: GraphQL, event ingestion and health, over injected resources.

`create_app` does no I/O: the MongoDB client, the Temporal client and the connector registry are
made by the runtime (in its lifespan or main) and passed in, so tests and processes share one way
of wiring.

| route             | what |
|-------------------|------|
| `POST /v1/events` | ingest a batch of events (`api.rest.events`) |
| `/graphql`        | the GraphQL API and GraphiQL (`api.graphql`) |
| `GET /healthz`    | MongoDB and Temporal reachability |
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import Lifespan
from temporalio.client import Client

from api.graphql.http import GraphQLEndpoint
from api.rest.events import EventsEndpoint, IngestLimits
from api.rest.health import HealthEndpoint
from api.services.container import Services
from api.services.ports import ChannelCatalog, Clock, utc_now
from store.database import Store


def create_app(
    store: Store,
    temporal: Client,
    channels: ChannelCatalog,
    *,
    limits: IngestLimits | None = None,
    clock: Clock = utc_now,
    lifespan: Lifespan[Starlette] | None = None,
    middleware: Sequence[Middleware] = (),
    debug: bool = False,
) -> Starlette:
    """The API over the given resources. `channels` is the connector registry (its catalog)."""
    services = Services.build(store, temporal, channels, clock)
    routes = [
        Route(
            "/v1/events",
            EventsEndpoint(services, limits or IngestLimits()).handle,
            methods=["POST"],
        ),
        Route("/graphql", GraphQLEndpoint(services)),
        Route("/healthz", HealthEndpoint(services).handle, methods=["GET"]),
    ]
    app = Starlette(debug=debug, routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.services = services
    return app
