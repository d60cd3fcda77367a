"""The `omnijourney` command line.

    omnijourney run            the whole stack on embedded defaults (or the servers configured)
    omnijourney api            the API only, against configured servers
    omnijourney worker         the workers only, against configured servers
    omnijourney demo           play a few customers through the demo journey of a running stack
    omnijourney export-schema  print the GraphQL schema (SDL)

Settings come from the environment (see README, "Configuration").
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from runtime.embedded import EmbeddedStack
from runtime.resources import open_resources
from runtime.seed import seed_demo
from runtime.serve import serve
from runtime.settings import Settings


def _banner(settings: Settings, stack: EmbeddedStack, api_key: str, tenant_id: str) -> str:
    base = settings.base_url
    mongo = (
        f"embedded SecantusDB on 127.0.0.1:{settings.embedded_mongodb_port}, "
        f"data in {stack.data_dir / 'mongodb'}"
        if settings.uses_embedded_mongodb
        else "configured by MONGODB_URI"
    )
    temporal = stack.temporal_ui_url or f"{stack.temporal_address} (configured)"
    return "\n".join(
        [
            "",
            "omnijourney is running",
            f"  GraphiQL     {base}/graphql",
            f"  Events API   POST {base}/v1/events",
            f"  Temporal UI  {temporal}",
            f"  MongoDB      {mongo}",
            f"  Tenant       {tenant_id}",
            f"  API key      {api_key}",
            "               (send it as `Authorization: Bearer <key>`; GraphiQL: Headers tab)",
            "",
            "  Play a few customers through the demo journey:  make demo   (another terminal)",
            "  Ctrl-C stops everything; data stays in DATA_DIR for the next run.",
            "",
        ]
    )


async def _run(settings: Settings, stack: EmbeddedStack) -> None:
    async with open_resources(settings, stack.mongodb_uri, stack.temporal_address) as resources:
        seed = await seed_demo(resources.store, stack.data_dir)

        async def ready() -> None:
            print(_banner(settings, stack, seed.api_key, seed.tenant_id), flush=True)

        await serve(resources, api=True, worker=True, ready=ready)


def cmd_run(settings: Settings) -> int:
    print(
        f"omnijourney: starting the stack (data in {settings.data_dir.resolve()}) ...", flush=True
    )
    with EmbeddedStack(settings) as stack:
        asyncio.run(_run(settings, stack))
    print("omnijourney: stopped", flush=True)
    return 0


def cmd_serve(settings: Settings, *, api: bool, worker: bool) -> int:
    stack = EmbeddedStack(settings)  # nothing started: only resolves the configured addresses

    async def main() -> None:
        async with open_resources(settings, stack.mongodb_uri, stack.temporal_address) as res:
            await serve(res, api=api, worker=worker)

    asyncio.run(main())
    return 0


def cmd_demo(settings: Settings, customers: int) -> int:
    from runtime.demo import play

    return asyncio.run(play(settings, customers))


def cmd_export_schema() -> int:
    from api.schema_export import export_schema

    sys.stdout.write(export_schema())
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="omnijourney", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the whole stack on embedded defaults")
    commands.add_parser("api", help="the API against configured servers")
    commands.add_parser("worker", help="the workers against configured servers")
    demo = commands.add_parser("demo", help="play customers through the demo journey")
    demo.add_argument("--customers", type=int, default=6, help="how many (default 6)")
    commands.add_parser("export-schema", help="print the GraphQL schema")
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `omnijourney` console script."""
    args = parser().parse_args(argv)
    if args.command == "export-schema":
        return cmd_export_schema()
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "run":
        return cmd_run(settings)
    if args.command == "api":
        return cmd_serve(settings, api=True, worker=False)
    if args.command == "worker":
        return cmd_serve(settings, api=False, worker=True)
    return cmd_demo(settings, args.customers)


if __name__ == "__main__":
    raise SystemExit(main())
