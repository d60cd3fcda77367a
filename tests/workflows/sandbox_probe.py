"""A workflow that reads the wall clock: the production sandbox must refuse it."""

from __future__ import annotations

import datetime

from temporalio import workflow


@workflow.defn(name="SandboxProbeWorkflow")
class SandboxProbeWorkflow:
    @workflow.run
    async def run(self) -> str:
        return datetime.datetime.now().isoformat()
