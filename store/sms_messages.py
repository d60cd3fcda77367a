"""SMS the providers accepted (`sms_messages`), one document per (tenant, provider, message id).

The `sms` connector records each message once its provider answered with an id; a delivery
report naming a message id (and phone) that is not here for the tenant is not believed, and a
reply is only taken from a number the tenant has sent to.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from domain.sms import SentSms, SmsProvider
from store.mongo import SMS_MESSAGES, Document, collection, stored_time


def _doc_id(tenant_id: str, provider: str, message_id: str) -> str:
    return f"{tenant_id}:{provider}:{message_id}"


def _model(doc: Document) -> SentSms:
    data = {key: value for key, value in doc.items() if key != "_id"}
    at = doc["sent_at"]
    data["sent_at"] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return SentSms.model_validate(data)


class SmsMessageRepository:
    """Records sent SMS and finds them again for their reports."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._messages = collection(db, SMS_MESSAGES)

    async def record(self, message: SentSms) -> None:
        """Keep `message` (recording it again changes nothing)."""
        doc: Document = {
            "_id": _doc_id(message.tenant_id, message.provider, message.message_id),
            **message.model_dump(),
            "sent_at": stored_time(message.sent_at),
        }
        await self._messages.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)

    async def get(self, tenant_id: str, provider: SmsProvider, message_id: str) -> SentSms | None:
        """The tenant's message of that provider id, or None."""
        doc = await self._messages.find_one(
            {"_id": _doc_id(tenant_id, provider, message_id), "tenant_id": tenant_id}
        )
        return None if doc is None else _model(doc)

    async def sent_to(self, tenant_id: str, phone: str) -> bool:
        """Whether the tenant has sent any SMS to `phone`."""
        doc = await self._messages.find_one({"tenant_id": tenant_id, "phone": phone}, {"_id": 1})
        return doc is not None
