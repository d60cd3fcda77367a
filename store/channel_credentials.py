"""Channel credentials: one WeCom corp per tenant (`channel_credentials`, `_id` = tenant id).

The three secrets are sealed (`store.secretbox`, AES-GCM bound to tenant, collection and field):
a database dump holds none of them. Documents written before sealing existed hold them as plain
strings; they still read, and `reseal` (at start-up) seals them, and re-seals values under an
older key. Secrets leave this module only inside `SecretStr`, so nothing that prints a model
shows them.
`by_callback_id` is the one lookup without a tenant filter: finding the tenant of a callback URL
is its purpose, and the callback id, unique across tenants, stands in for it.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from domain.channels import WeComCredentials
from domain.errors import Conflict
from store.mongo import CHANNEL_CREDENTIALS, Document, collection
from store.sealing import reseal_fields
from store.secretbox import SecretBox, SecretPlace

_CHANNEL = "wecom"
SECRET_FIELDS = ("secret", "callback_token", "encoding_aes_key")


def _place(tenant_id: str, name: str) -> SecretPlace:
    return SecretPlace(tenant_id, CHANNEL_CREDENTIALS, name)


class WeComCredentialsRepository:
    """The tenants' WeCom credentials."""

    def __init__(self, db: AsyncDatabase[Any], box: SecretBox | None) -> None:
        self._credentials = collection(db, CHANNEL_CREDENTIALS)
        self._box = box

    def _require_box(self) -> SecretBox:
        if self._box is None:
            raise RuntimeError("this Store was built without a SecretBox: WeCom secrets need one")
        return self._box

    def _document(self, credentials: WeComCredentials) -> Document:
        box = self._require_box()
        doc = credentials.model_dump()
        for name in SECRET_FIELDS:
            value = getattr(credentials, name).get_secret_value()
            doc[name] = box.seal(value, _place(credentials.tenant_id, name))
        doc["_id"] = credentials.tenant_id
        doc["channel"] = _CHANNEL
        return doc

    def _model(self, doc: Document) -> WeComCredentials:
        box = self._require_box()
        data = {key: value for key, value in doc.items() if key not in ("_id", "channel")}
        for name in SECRET_FIELDS:
            data[name] = box.reveal(doc[name], _place(doc["tenant_id"], name))
        return WeComCredentials.model_validate(data)

    async def put(self, credentials: WeComCredentials) -> None:
        """Store the tenant's credentials, replacing any it had; `Conflict` when another
        tenant already uses the callback id."""
        try:
            await self._credentials.replace_one(
                {"_id": credentials.tenant_id, "tenant_id": credentials.tenant_id},
                self._document(credentials),
                upsert=True,
            )
        except DuplicateKeyError as exc:
            raise Conflict("that callback id is already in use") from exc

    async def get(self, tenant_id: str) -> WeComCredentials | None:
        """The tenant's credentials, or None when it has not connected WeCom."""
        doc = await self._credentials.find_one({"_id": tenant_id, "tenant_id": tenant_id})
        return None if doc is None else self._model(doc)

    async def by_callback_id(self, callback_id: str) -> WeComCredentials | None:
        """The credentials whose callback URL ends in `callback_id`, or None."""
        doc = await self._credentials.find_one({"callback_id": callback_id, "channel": _CHANNEL})
        return None if doc is None else self._model(doc)

    async def delete(self, tenant_id: str) -> bool:
        """Forget the tenant's credentials; whether there were any."""
        result = await self._credentials.delete_one({"_id": tenant_id, "tenant_id": tenant_id})
        return result.deleted_count == 1

    async def reseal(self) -> int:
        """Seal plain-text secrets and re-seal those under an older key; how many changed."""
        return await reseal_fields(self._credentials, SECRET_FIELDS, self._require_box())
