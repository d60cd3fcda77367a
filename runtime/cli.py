"""The `omnijourney` command line.

    omnijourney run            the whole stack on embedded defaults (or the servers configured),
                               with a simulated WeCom corp for the demo tenant (WECOM_SIMULATOR)
                               and a simulated SMS provider (SMS_SIMULATOR)
    omnijourney run --demo     the same, and customers and staff play the demo journey on it
    omnijourney demo           = run --demo
    omnijourney api            the API only, against configured servers
    omnijourney worker         the workers (and the WeCom result poller) only
    omnijourney create-tenant ID --name NAME
                               add a tenant (production has no demo seed)
    omnijourney create-api-key TENANT --role ROLE --name NAME [--expires-at ISO-TIME]
                               issue an API key and print it once
    omnijourney list-api-keys TENANT
                               the tenant's keys (id, role, name, dates; never secrets)
    omnijourney revoke-api-key TENANT KEY_ID [--allow-last-admin]
                               revoke a key (the last usable admin key only with the flag)
    omnijourney rotate-webhook-secret --tenant TENANT [--overlap-hours H]
                               make the tenant's new webhook signing secret and print it once
    omnijourney export-schema  print the GraphQL schema (SDL)

Settings come from the environment (see README, "Configuration").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import get_args

import httpx

from domain.tenants import ApiKeyRole
from domain.webhooks import DEFAULT_OVERLAP
from runtime.admin import admin, aware_time
from runtime.demo import play
from runtime.demo_simulation import forecast
from runtime.embedded import EmbeddedStack
from runtime.lead_demo import play_leads
from runtime.resources import open_resources
from runtime.secrets import SecretsNotConfiguredError
from runtime.seed import seed_demo
from runtime.serve import serve
from runtime.settings import Settings
from runtime.simulated_email import SimulatedMailbox, simulated_email, with_sink_allowed
from runtime.simulated_sms import SimulatedSmsAccount, simulated_sms
from runtime.simulated_wechat import SimulatedWeChat, simulated_wechat
from runtime.simulated_wecom import SimulatedCorp, simulated_wecom
from store.secretbox import SecretError

SIMULATED_TASK_MAX_AGE = timedelta(minutes=1)
DEFAULT_OVERLAP_HOURS = int(DEFAULT_OVERLAP.total_seconds() // 3600)
ADMIN_COMMANDS = (
    "create-tenant",
    "create-api-key",
    "list-api-keys",
    "revoke-api-key",
    "rotate-webhook-secret",
)


def _banner(
    settings: Settings,
    stack: EmbeddedStack,
    api_key: str,
    tenant_id: str,
    corp: SimulatedCorp | None,
    demo: bool,
    sms: SimulatedSmsAccount | None = None,
    wechat: SimulatedWeChat | None = None,
    mailbox: SimulatedMailbox | None = None,
) -> str:
    base = settings.base_url
    mongo = (
        f"embedded SecantusDB on 127.0.0.1:{settings.embedded_mongodb_port}, "
        f"data in {stack.data_dir / 'mongodb'}"
        if settings.uses_embedded_mongodb
        else "configured by MONGODB_URI"
    )
    temporal = stack.temporal_ui_url or f"{stack.temporal_address} (configured)"
    if corp is not None:
        wecom = [
            f"  WeCom        simulated corp {corp.sim.corp_id} at {corp.sim.base_url}",
            f"               channel code '{corp.channel_code.state}', group live code "
            f"'{corp.group_code.state}'; callbacks to {corp.callback_url}",
        ]
    else:
        wecom = [
            "  WeCom        not simulated (WECOM_SIMULATOR=false): connect with configureWeCom"
        ]
    if sms is not None:
        wecom.append(
            f"  SMS          simulated {sms.provider} account at "
            f"{sms.sim.base_url(sms.provider)}; reports to {sms.callback_url}"
        )
    else:
        wecom.append("  SMS          not simulated (SMS_SIMULATOR=off): set one with configureSms")
    if wechat is not None:
        wecom += [
            f"  WeChat       simulated OA {wechat.oa.sim.appid} and mini-program "
            f"{wechat.miniprogram.sim.appid}; pushes to {wechat.oa.callback_url}, "
            f"{wechat.miniprogram.callback_url}",
        ]
    if mailbox is not None:
        wecom.append(f"  E-mail       local SMTP sink at {mailbox.url} (messages logged)")
    if demo:
        hint = "  The demo is starting: customers scan, join, get tasks and buy below."
    else:
        hint = "  Play customers through the demo journey: omnijourney run --demo (make demo)."
    return "\n".join(
        [
            "",
            "omnijourney is running",
            f"  GraphiQL     {base}/graphql",
            f"  Events API   POST {base}/v1/events",
            f"  Temporal UI  {temporal}",
            f"  MongoDB      {mongo}",
            *wecom,
            f"  Tenant       {tenant_id}",
            f"  API key      {api_key}",
            "               (send it as `Authorization: Bearer <key>`; GraphiQL: Headers tab)",
            "",
            hint,
            "  Ctrl-C stops everything; data stays in DATA_DIR for the next run.",
            "",
        ]
    )


async def _run(settings: Settings, stack: EmbeddedStack, demo: DemoOptions | None) -> None:
    if settings.email_sink:
        settings = with_sink_allowed(settings)
    async with (
        open_resources(settings, stack.mongodb_uri, stack.temporal_address) as resources,
        contextlib.AsyncExitStack() as scope,
    ):
        seed = await seed_demo(resources.store, stack.data_dir)
        corp: SimulatedCorp | None = None
        if settings.wecom_simulator:
            corp = await scope.enter_async_context(
                simulated_wecom(
                    resources.store,
                    resources.wecom,
                    resources.http,
                    settings.local_base_url,
                    seed.tenant_id,
                )
            )
        sms: SimulatedSmsAccount | None = None
        if settings.sms_simulator != "off":
            sms = await scope.enter_async_context(
                simulated_sms(
                    resources.store,
                    resources.http,
                    settings.local_base_url,
                    seed.tenant_id,
                    settings.sms_simulator,
                )
            )
        wechat: SimulatedWeChat | None = None
        if settings.wechat_simulator:
            wechat = await scope.enter_async_context(
                simulated_wechat(
                    resources.store, resources.http, settings.local_base_url, seed.tenant_id
                )
            )
        mailbox: SimulatedMailbox | None = None
        if settings.email_sink:
            mailbox = await scope.enter_async_context(
                simulated_email(resources.store, seed.tenant_id)
            )
        playing: list[asyncio.Task[None]] = []

        async def ready() -> None:
            banner = _banner(
                settings,
                stack,
                seed.api_key,
                seed.tenant_id,
                corp,
                demo is not None,
                sms=sms,
                wechat=wechat,
                mailbox=mailbox,
            )
            print(banner, flush=True)
            if demo is not None and corp is not None:
                playing.append(asyncio.create_task(play_demo(corp, sms)))

        async def play_demo(corp: SimulatedCorp, sms: SimulatedSmsAccount | None) -> None:
            assert demo is not None
            # The forecast first: its CPU work would otherwise slow the live demo's timers.
            try:
                await forecast(settings.local_base_url, seed.api_key)
            except (httpx.HTTPError, RuntimeError) as exc:
                print(f"forecast: not simulated: {exc}", flush=True)
            plays = [
                play(
                    corp,
                    settings.local_base_url,
                    seed.api_key,
                    seed.journey_id,
                    customers=demo.customers,
                    seconds=demo.seconds,
                )
            ]
            if sms is not None:
                plays.append(
                    play_leads(
                        corp,
                        sms,
                        settings.local_base_url,
                        seed.api_key,
                        seed.lead_journey_id,
                        seconds=demo.seconds,
                    )
                )
            await asyncio.gather(*plays)

        await serve(
            resources,
            api=True,
            worker=True,
            ready=ready,
            poll_interval=settings.result_poll_interval(simulated=corp is not None),
            # A fresh simulator knows no task of an earlier run, and the demo journey waits ten
            # seconds for a result: older tasks are not worth asking about.
            poll_max_age=SIMULATED_TASK_MAX_AGE if corp is not None else None,
            temporal_ui_url=settings.temporal_ui_url or stack.temporal_ui_url,
            access_log=demo is None,  # the demo prints its own progress lines
        )
        for task in playing:
            task.cancel()
        await asyncio.gather(*playing, return_exceptions=True)


@dataclass(frozen=True)
class DemoOptions:
    customers: int
    seconds: float


def cmd_run(settings: Settings, demo: DemoOptions | None = None) -> int:
    if demo is not None and not settings.wecom_simulator:
        print(
            "omnijourney: the demo plays on the simulated WeCom corp; unset WECOM_SIMULATOR=false"
        )
        return 2
    print(
        f"omnijourney: starting the stack (data in {settings.data_dir.resolve()}) ...", flush=True
    )
    with EmbeddedStack(settings) as stack:
        asyncio.run(_run(settings, stack, demo))
    print("omnijourney: stopped", flush=True)
    return 0


def cmd_serve(settings: Settings, *, api: bool, worker: bool) -> int:
    stack = EmbeddedStack(settings)  # nothing started: only resolves the configured addresses

    async def main() -> None:
        async with open_resources(settings, stack.mongodb_uri, stack.temporal_address) as res:
            await serve(
                res,
                api=api,
                worker=worker,
                temporal_ui_url=settings.temporal_ui_url or stack.temporal_ui_url,
            )

    asyncio.run(main())
    return 0


def cmd_export_schema() -> int:
    from api.schema_export import export_schema

    sys.stdout.write(export_schema())
    return 0


def settings_level(settings: Settings) -> int:
    return logging.getLevelNamesMapping()[settings.log_level]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="omnijourney", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="the whole stack on embedded defaults")
    run.add_argument("--demo", action="store_true", help="play customers through the demo")
    demo = commands.add_parser("demo", help="run --demo: the stack, and the demo played on it")
    for command in (run, demo):
        command.add_argument("--customers", type=int, default=6, help="demo customers (default 6)")
        command.add_argument(
            "--seconds", type=float, default=90.0, help="how long the demo plays (default 90)"
        )
    commands.add_parser("api", help="the API against configured servers")
    commands.add_parser("worker", help="the workers against configured servers")
    commands.add_parser("export-schema", help="print the GraphQL schema")
    tenant = commands.add_parser("create-tenant", help="add a tenant")
    tenant.add_argument("tenant_id", help="the tenant's id (letters, digits, '-', '_')")
    tenant.add_argument("--name", required=True, help="the brand's display name")
    key = commands.add_parser("create-api-key", help="issue an API key and print it once")
    key.add_argument("tenant_id", help="the tenant the key acts for")
    key.add_argument("--role", required=True, choices=list(get_args(ApiKeyRole)))
    key.add_argument("--name", required=True, help="what the key is for, e.g. 'ops console'")
    key.add_argument(
        "--expires-at",
        type=aware_time,
        default=None,
        help="when the key stops working, ISO 8601 with a time zone (default: never)",
    )
    listing = commands.add_parser("list-api-keys", help="list a tenant's keys (never secrets)")
    listing.add_argument("tenant_id", help="the tenant")
    revoke = commands.add_parser("revoke-api-key", help="revoke a key")
    revoke.add_argument("tenant_id", help="the tenant the key acts for")
    revoke.add_argument("key_id", help="the key's id (key_..., see list-api-keys)")
    revoke.add_argument(
        "--allow-last-admin",
        action="store_true",
        help="also revoke the tenant's last usable admin key (refused by default)",
    )
    rotate = commands.add_parser(
        "rotate-webhook-secret", help="make a tenant's new webhook signing secret, print it once"
    )
    rotate.add_argument("--tenant", dest="tenant_id", required=True, help="the tenant")
    rotate.add_argument(
        "--overlap-hours",
        type=float,
        default=DEFAULT_OVERLAP_HOURS,
        help=f"how long the replaced secret keeps signing, 0 to 168 (default {DEFAULT_OVERLAP_HOURS})",
    )
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
    # httpx logs every request's full URL at INFO, and WeCom's take the app secret (gettoken)
    # or an access token in the query.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, settings_level(settings)))
    try:
        if args.command in ("run", "demo"):
            wanted = args.command == "demo" or args.demo
            if wanted:
                for name in ("activities.channel", "connectors.wecom.client"):
                    logging.getLogger(name).setLevel(max(logging.WARNING, settings_level(settings)))
            return cmd_run(settings, DemoOptions(args.customers, args.seconds) if wanted else None)
        if args.command in ADMIN_COMMANDS:
            return asyncio.run(admin(settings, args))
        if args.command == "api":
            return cmd_serve(settings, api=True, worker=False)
        return cmd_serve(settings, api=False, worker=True)
    except (SecretsNotConfiguredError, SecretError) as exc:
        # A configuration problem (no SECRETS_KEYS, a key taken away): say so, no traceback.
        print(f"omnijourney: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
