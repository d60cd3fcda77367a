"""Channel credentials: one WeCom corp per tenant (`channel_credentials`, `_id` = tenant id).

The secrets are stored as they are, since signing token requests and decrypting callbacks need
them; they leave this module only inside `SecretStr`, so nothing that prints a model shows them.
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

_CHANNEL = "wecom"


def _document(credentials: WeComCredentials) -> Document:
    doc = credentials.model_dump()
    for name in ("secret", "callback_token", "encoding_aes_key"):
        doc[name] = getattr(credentials, name).get_secret_value()
    doc["_id"] = credentials.tenant_id
    doc["channel"] = _CHANNEL
    return doc


def _credentials(doc: Document) -> WeComCredentials:
    data = {key: value for key, value in doc.items() if key not in ("_id", "channel")}
    return WeComCredentials.model_validate(data)


class WeComCredentialsRepository:
    """The tenants' WeCom credentials."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._credentials = collection(db, CHANNEL_CREDENTIALS)

    async def put(self, credentials: WeComCredentials) -> None:
        """Store the tenant's credentials, replacing any it had; `Conflict` when another
        tenant already uses the callback id."""
        try:
            await self._credentials.replace_one(
                {"_id": credentials.tenant_id, "tenant_id": credentials.tenant_id},
                _document(credentials),
                upsert=True,
            )
        except DuplicateKeyError as exc:
            raise Conflict("that callback id is already in use") from exc

    async def get(self, tenant_id: str) -> WeComCredentials | None:
        """The tenant's credentials, or None when it has not connected WeCom."""
        doc = await self._credentials.find_one({"_id": tenant_id, "tenant_id": tenant_id})
        return None if doc is None else _credentials(doc)

    async def by_callback_id(self, callback_id: str) -> WeComCredentials | None:
        """The credentials whose callback URL ends in `callback_id`, or None."""
        doc = await self._credentials.find_one({"callback_id": callback_id, "channel": _CHANNEL})
        return None if doc is None else _credentials(doc)

    async def delete(self, tenant_id: str) -> bool:
        """Forget the tenant's credentials; whether there were any."""
        result = await self._credentials.delete_one({"_id": tenant_id, "tenant_id": tenant_id})
        return result.deleted_count == 1
