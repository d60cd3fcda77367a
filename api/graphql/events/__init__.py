"""Events: ingest through GraphQL (the same service as `POST /v1/events`)."""
