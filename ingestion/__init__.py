"""Ingestion: take events in, store them once, route them to journeys, and keep at it.

A layer of its own, between `workflows/` (which it drives) and `api/` (which calls it), because
two entry points use it: the API (`POST /v1/events`, GraphQL, WeCom callbacks, dead letters) and
the worker's WeCom result poller in `runtime/`. Below `api/`, neither needs the other to route an
event. The routing rules themselves are pure and live in `domain.routing`; here is the I/O:

- `service`: `IngestService`, the entry: validate → store → route;
- `scheduler`: per-customer ordering of routing, background routing, the recovery sweep, retries
  and dead-lettering, preparations;
- `router`: routing one stored event (carrying out `domain.routing`'s decisions);
- `merges`: what a customer merge does to enrollments (settling doubles, stand-ins);
- `results`, `retries`, `outages`: what ingestion answers, how failed routing is retried, and a
  backing service's outage told apart from a bug.
"""
