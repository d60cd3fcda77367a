"""The admin commands: tenants, API keys and webhook secrets for a production deployment.

MongoDB is all they need (no Temporal). Keys are listed and revoked, and webhook secrets rotated,
through the same services the GraphQL API uses (`ApiKeyService`, `WebhookSecretService`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pymongo import AsyncMongoClient

from api.services.api_keys import ApiKeyService
from api.services.webhooks import WebhookSecretService
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.tenants import Tenant
from domain.webhooks import check_overlap
from runtime.embedded import EmbeddedStack
from runtime.secrets import SecretsNotConfiguredError, secret_box
from runtime.settings import Settings, mongo_client_options
from store.database import Store
from store.secretbox import SecretError


async def admin(settings: Settings, args: argparse.Namespace) -> int:
    """Run one admin command (`args.command`); the process exit code."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        EmbeddedStack(settings).mongodb_uri, **mongo_client_options(settings)
    )
    try:
        store = Store(mongo[settings.mongodb_database])
        await store.ensure_indexes()
        now = datetime.now(UTC)
        if args.command == "create-tenant":
            try:
                await store.tenants.create(
                    Tenant(id=args.tenant_id, name=args.name, created_at=now)
                )
            except (ConflictError, ValidationError) as exc:
                print(f"omnijourney: {_first_line(exc)}", file=sys.stderr)
                return 2
            print(f"tenant {args.tenant_id} created")
            return 0
        if await store.tenants.find(args.tenant_id) is None:
            print(f"omnijourney: no tenant {args.tenant_id!r}", file=sys.stderr)
            return 2
        if args.command == "rotate-webhook-secret":
            return await _rotate_webhook_secret(settings, mongo, args)
        keys = ApiKeyService(store.tenants)
        if args.command == "list-api-keys":
            return await _list_keys(keys, args.tenant_id)
        if args.command == "revoke-api-key":
            return await _revoke_key(keys, args)
        # Through the repository, not the service: its errors name the CLI's `expires_at`.
        try:
            key, raw = await store.tenants.create_api_key(
                args.tenant_id, args.name, args.role, now, expires_at=args.expires_at
            )
        except ValidationError as exc:
            print(f"omnijourney: {_first_error(exc)}", file=sys.stderr)
            return 2
        print(f"API key {key.id} ({args.role}) for tenant {args.tenant_id}; shown only now:")
        print(raw)
        return 0
    finally:
        await mongo.close()


async def _rotate_webhook_secret(
    settings: Settings, mongo: AsyncMongoClient[dict[str, Any]], args: argparse.Namespace
) -> int:
    try:
        overlap = check_overlap(timedelta(hours=args.overlap_hours), "--overlap-hours")
        store = Store(mongo[settings.mongodb_database], secret_box(settings))
        secret, info = await WebhookSecretService(store).rotate(args.tenant_id, overlap)
    except (InvalidInputError, ConflictError, SecretError, SecretsNotConfiguredError) as exc:
        print(f"omnijourney: {_first_line(exc)}", file=sys.stderr)
        return 2
    if info.previous_valid_until is not None:
        overlap_note = (
            f"the replaced secret also signs until {info.previous_valid_until:%Y-%m-%d %H:%M} UTC"
        )
    else:
        overlap_note = "the replaced secret, if any, no longer signs"
    print(f"webhook signing secret for tenant {args.tenant_id} ({overlap_note}); shown only now:")
    print(secret.get_secret_value())
    return 0


async def _list_keys(service: ApiKeyService, tenant_id: str) -> int:
    keys, now = await service.of_tenant(tenant_id), service.now()
    print("id\trole\tprefix\tstate\tname\tcreated\texpires\tlast used (to the minute)")
    for key in keys:
        state = "revoked" if not key.active else "expired" if key.expired_at(now) else "active"
        print(
            "\t".join(
                [
                    key.id,
                    key.role,
                    key.prefix,
                    state,
                    key.name,
                    _when(key.created_at),
                    _when(key.expires_at),
                    _when(key.last_used_at),
                ]
            )
        )
    return 0


async def _revoke_key(service: ApiKeyService, args: argparse.Namespace) -> int:
    try:
        key = await service.revoke(
            args.tenant_id, args.key_id, keep_last_admin=not args.allow_last_admin
        )
    except NotFoundError as exc:
        print(f"omnijourney: {exc}", file=sys.stderr)
        return 2
    except ConflictError as exc:
        print(f"omnijourney: {exc} (or pass --allow-last-admin)", file=sys.stderr)
        return 2
    print(f"API key {key.id} revoked at {_when(key.revoked_at)}")
    return 0


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat(timespec="seconds")


def aware_time(value: str) -> datetime:
    """An argparse type: an ISO 8601 time with a time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {value}Z or {value}+08:00")
    return moment


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    return str(error["msg"]).removeprefix("Value error, ")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
