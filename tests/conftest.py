"""Shared fixtures: real servers only (MongoDB-wire server, Temporal dev/test server)."""

pytest_plugins = ["tests.fixtures.mongo", "tests.fixtures.temporal"]
