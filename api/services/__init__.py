"""Application services the HTTP and GraphQL adapters share."""
