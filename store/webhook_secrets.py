"""Webhook signing secrets, one document per tenant (`webhook_secrets`, `_id` = tenant id).

    {_id, tenant_id, generation,                 -- generation: compare-and-set on rotation
     secret: <sealed>, created_at,
     previous_secret: <sealed> | null, previous_valid_until: <datetime> | null}

Both secrets are sealed (`store.secretbox`). `CachedSigningSecrets` is the webhook connector's
port onto this repository: it caches a tenant's secrets for a few seconds, so a rotation made in
the API process signs the worker's deliveries within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.errors import ConflictError
from domain.webhooks import TenantSigningSecrets, WebhookSecretInfo, new_webhook_secret
from store.caching import TtlCache
from store.mongo import WEBHOOK_SECRETS, Document, collection, stored_time
from store.sealing import reseal_fields
from store.secretbox import SecretBox, SecretPlace

SECRET_FIELDS = ("secret", "previous_secret")
_ROTATION_ATTEMPTS = 5


def _place(tenant_id: str, name: str) -> SecretPlace:
    return SecretPlace(tenant_id, WEBHOOK_SECRETS, name)


def _info(doc: Document) -> WebhookSecretInfo:
    return WebhookSecretInfo(
        tenant_id=doc["tenant_id"],
        created_at=doc["created_at"],
        previous_valid_until=doc.get("previous_valid_until")
        if doc.get("previous_secret")
        else None,
    )


class WebhookSecretRepository:
    """The tenants' webhook signing secrets."""

    def __init__(self, db: AsyncDatabase[Any], box: SecretBox | None) -> None:
        self._secrets = collection(db, WEBHOOK_SECRETS)
        self._box = box

    def _require_box(self) -> SecretBox:
        if self._box is None:
            raise RuntimeError("this Store was built without a SecretBox: webhook secrets need one")
        return self._box

    def _new_document(self, tenant_id: str, secret: str, now: datetime) -> Document:
        return {
            "_id": tenant_id,
            "tenant_id": tenant_id,
            "generation": 1,
            "secret": self._require_box().seal(secret, _place(tenant_id, "secret")),
            "created_at": now,
            "previous_secret": None,
            "previous_valid_until": None,
        }

    async def info(self, tenant_id: str) -> WebhookSecretInfo | None:
        """The secret's metadata (never the secret), or None when the tenant has none yet."""
        doc = await self._secrets.find_one(
            {"_id": tenant_id, "tenant_id": tenant_id}, {"secret": 0}
        )
        return None if doc is None else _info(doc)

    async def rotate(
        self, tenant_id: str, now: datetime, overlap: timedelta
    ) -> tuple[SecretStr, WebhookSecretInfo]:
        """Make a new current secret; the replaced one keeps signing for `overlap` (none when
        zero, and a secret still overlapping from an earlier rotation stops). Answers the new
        secret, which is not shown again, and the metadata."""
        box = self._require_box()
        now = stored_time(now)  # answer what a later read will show
        for _ in range(_ROTATION_ATTEMPTS):
            secret = new_webhook_secret()
            doc = await self._secrets.find_one({"_id": tenant_id, "tenant_id": tenant_id})
            if doc is None:
                fresh = self._new_document(tenant_id, secret, now)
                try:
                    await self._secrets.insert_one(fresh)
                except DuplicateKeyError:
                    continue  # made meanwhile (a delivery, another rotation): rotate that one
                return SecretStr(secret), _info(fresh)
            replaced = box.reveal(doc["secret"], _place(tenant_id, "secret"))
            keep = overlap > timedelta(0)
            changes: Document = {
                "secret": box.seal(secret, _place(tenant_id, "secret")),
                "created_at": now,
                "previous_secret": (
                    box.seal(replaced, _place(tenant_id, "previous_secret")) if keep else None
                ),
                "previous_valid_until": now + overlap if keep else None,
            }
            result = await self._secrets.update_one(
                {"_id": tenant_id, "tenant_id": tenant_id, "generation": doc["generation"]},
                {"$set": changes, "$inc": {"generation": 1}},
            )
            if result.modified_count == 1:
                return SecretStr(secret), _info({**doc, **changes})
        raise ConflictError("the webhook secret is being rotated concurrently; try again")

    async def signing_secrets(
        self, tenant_id: str, now: datetime, initial: SecretStr | None = None
    ) -> TenantSigningSecrets:
        """The tenant's secrets, made on first need: `initial` when given (the deprecated
        deployment-wide secret), else a fresh one (an admin learns it by rotating)."""
        box = self._require_box()
        doc = await self._secrets.find_one({"_id": tenant_id, "tenant_id": tenant_id})
        if doc is None:
            value = initial.get_secret_value() if initial is not None else new_webhook_secret()
            try:
                await self._secrets.insert_one(self._new_document(tenant_id, value, now))
            except DuplicateKeyError:
                doc = await self._secrets.find_one({"_id": tenant_id, "tenant_id": tenant_id})
            else:
                return TenantSigningSecrets(current=SecretStr(value))
            assert doc is not None  # the duplicate exists; secrets are never deleted
        previous = doc.get("previous_secret")
        return TenantSigningSecrets(
            current=SecretStr(box.reveal(doc["secret"], _place(tenant_id, "secret"))),
            previous=(
                SecretStr(box.reveal(previous, _place(tenant_id, "previous_secret")))
                if previous is not None
                else None
            ),
            previous_valid_until=doc.get("previous_valid_until"),
        )

    async def reseal(self) -> int:
        """Re-seal values under an older key with the primary one; how many changed."""
        return await reseal_fields(self._secrets, SECRET_FIELDS, self._require_box())


class CachedSigningSecrets:
    """The webhook connector's `SigningSecrets` port: a tenant's secrets valid at send time,
    read from the repository at most once per `ttl` seconds per tenant.

    `initial` is the deprecated WEBHOOK_SIGNING_SECRET: a tenant without a secret of its own
    starts with it, so receivers set up before per-tenant secrets keep verifying.
    """

    def __init__(
        self,
        repository: WebhookSecretRepository,
        initial: SecretStr | None = None,
        ttl: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._initial = initial
        self._cache: TtlCache[str, TenantSigningSecrets] = TtlCache(ttl, monotonic=monotonic)

    async def signing_secrets(self, tenant_id: str, now: datetime) -> list[SecretStr]:
        """The secrets that sign a delivery of `tenant_id` sent at `now`, current first."""
        found = await self._cache.get_or_load(
            tenant_id,
            lambda: self._repository.signing_secrets(tenant_id, now, self._initial),
        )
        return found.valid_at(now)
