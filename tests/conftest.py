"""Shared fixtures: real servers only (MongoDB-wire server, Temporal dev/test server)."""

import os

pytest_plugins = ["tests.fixtures.mongo", "tests.fixtures.temporal"]

# Workers started through `serve` (end-to-end tests) sandbox workflows strictly, as
# `build_workers` does by default: a non-deterministic call fails the tests (`runtime.worker`).
os.environ.setdefault("WORKFLOW_SANDBOX", "strict")
