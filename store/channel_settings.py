"""Per-tenant settings of the channels and sources beyond WeCom (`channel_settings`).

One document per (tenant, kind): `kind` names what is configured (`sms`, `oa`, `miniprogram`,
`email`, `lead.douyin`, `orders`, ...), and its settings are one pydantic model chosen by the
caller. Every `SecretStr` field of the model is sealed (`store.secretbox`) into one ciphertext per
document, `sealed`, bound to the tenant, the collection and the field: a dump of the database holds
none of them, and they leave this module only inside `SecretStr`. The other fields are stored as
they are, so they can be read and indexed.

`lookup` is an optional public key of the settings, unique per kind across tenants, for the one
kind of read without a tenant filter: finding the tenant a provider's callback is for (an
Official Account's appid, a callback id in a URL). It is only ever a value that appears in the
callback before it is verified; the callback is then verified with the settings found.

WeCom's credentials (`store.channel_credentials`) predate this collection and keep their own.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.errors import ConflictError
from store.mongo import CHANNEL_SETTINGS, Document, collection
from store.sealing import reseal_fields
from store.secretbox import SecretBox, SecretPlace

SettingsT = TypeVar("SettingsT", bound=BaseModel)

SEALED_FIELD = "sealed"
_RESERVED = frozenset({"_id", "tenant_id", "kind", "lookup", "updated_at", SEALED_FIELD})


def _doc_id(tenant_id: str, kind: str) -> str:
    return f"{tenant_id}:{kind}"


def secret_fields(model: type[BaseModel]) -> list[str]:
    """The names of the model's `SecretStr` fields (optional ones included), in declaration order."""
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ()):
            names.append(name)
    return names


class ChannelSettingsRepository:
    """Read and write one settings model per (tenant, kind), secrets sealed."""

    def __init__(self, db: AsyncDatabase[Any], box: SecretBox | None) -> None:
        self._settings = collection(db, CHANNEL_SETTINGS)
        self._box = box

    def _require_box(self) -> SecretBox:
        if self._box is None:
            raise RuntimeError("this Store was built without a SecretBox: channel secrets need one")
        return self._box

    def _place(self, tenant_id: str) -> SecretPlace:
        return SecretPlace(tenant_id, CHANNEL_SETTINGS, SEALED_FIELD)

    async def put(
        self,
        tenant_id: str,
        kind: str,
        settings: BaseModel,
        now: datetime,
        *,
        lookup: str | None = None,
    ) -> None:
        """Store the tenant's settings of `kind`, replacing any; `ConflictError` when another
        tenant already uses `lookup` for this kind."""
        secrets = secret_fields(type(settings))
        data = settings.model_dump(mode="json", exclude=set(secrets))
        clash = _RESERVED.intersection(data)
        if clash:
            raise ValueError(f"settings fields {sorted(clash)} are reserved")
        plain = {}
        for name in secrets:
            value = getattr(settings, name)
            if value is not None:
                plain[name] = value.get_secret_value()
        doc: Document = {
            "_id": _doc_id(tenant_id, kind),
            "tenant_id": tenant_id,
            "kind": kind,
            "lookup": lookup,
            "updated_at": now,
            SEALED_FIELD: self._require_box().seal(json.dumps(plain), self._place(tenant_id)),
            **data,
        }
        try:
            await self._settings.replace_one(
                {"_id": doc["_id"], "tenant_id": tenant_id}, doc, upsert=True
            )
        except DuplicateKeyError as exc:
            raise ConflictError(
                f"that {kind} account is already connected to another tenant"
            ) from exc

    async def add(self, tenant_id: str, kind: str, settings: BaseModel, now: datetime) -> bool:
        """Store the tenant's settings of `kind` unless it has some already (then nothing
        changes); whether these were stored. For settings made on first need, such as a key
        that must not be replaced by a concurrent first use."""
        secrets = secret_fields(type(settings))
        plain = {
            name: getattr(settings, name).get_secret_value()
            for name in secrets
            if getattr(settings, name) is not None
        }
        doc: Document = {
            "_id": _doc_id(tenant_id, kind),
            "tenant_id": tenant_id,
            "kind": kind,
            "lookup": None,
            "updated_at": now,
            SEALED_FIELD: self._require_box().seal(json.dumps(plain), self._place(tenant_id)),
            **settings.model_dump(mode="json", exclude=set(secrets)),
        }
        try:
            await self._settings.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def _model(self, doc: Document, model: type[SettingsT]) -> SettingsT:
        plain = json.loads(
            self._require_box().reveal(doc[SEALED_FIELD], self._place(doc["tenant_id"]))
        )
        data = {key: value for key, value in doc.items() if key not in _RESERVED}
        return model.model_validate({**data, **plain})

    async def get(self, tenant_id: str, kind: str, model: type[SettingsT]) -> SettingsT | None:
        """The tenant's settings of `kind` as `model`, or None when it has none."""
        doc = await self._settings.find_one(
            {"_id": _doc_id(tenant_id, kind), "tenant_id": tenant_id}
        )
        return None if doc is None else self._model(doc, model)

    async def by_lookup(
        self, kind: str, lookup: str, model: type[SettingsT]
    ) -> tuple[str, SettingsT] | None:
        """(tenant id, settings) of the tenant whose `kind` settings carry `lookup`, or None."""
        doc = await self._settings.find_one({"kind": kind, "lookup": lookup})
        return None if doc is None else (doc["tenant_id"], self._model(doc, model))

    async def delete(self, tenant_id: str, kind: str) -> bool:
        """Forget the tenant's settings of `kind`; whether there were any."""
        result = await self._settings.delete_one(
            {"_id": _doc_id(tenant_id, kind), "tenant_id": tenant_id}
        )
        return result.deleted_count == 1

    async def reseal(self) -> int:
        """Re-seal secrets sealed under an older key with the primary one; how many changed."""
        return await reseal_fields(self._settings, (SEALED_FIELD,), self._require_box())
