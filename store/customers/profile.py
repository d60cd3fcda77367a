"""Profile writes: tags, attributes, consents (one record per channel: status, source, time) and
the first-touch hook of a customer.

Each write is one atomic update of the customer's document. Tag and attribute changes made to a
merged customer go to the customer it was merged into (the live end of its `merged_into` chain).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from domain.customers import CONSENT_SOURCE_PATTERN, ChannelConsent, Customer
from domain.errors import FieldProblem, InvalidInputError, NotFoundError
from store.customers.documents import check_attribute_names, customer_from_doc
from store.customers.merges import CustomerMerges
from store.mongo import Document

_NAME = re.compile(CONSENT_SOURCE_PATTERN)


class CustomerProfiles:
    """Profile writes of `CustomerRepository`, over its `customers` collection and merges."""

    _customers: AsyncCollection[Document]
    _merges: CustomerMerges

    async def update_profile(
        self,
        tenant_id: str,
        customer_id: str,
        now: datetime,
        *,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        set_attributes: dict[str, Any] | None = None,
        unset_attributes: list[str] | None = None,
    ) -> Customer:
        """Apply tag and attribute changes in one atomic update (removals before additions).

        A merged customer's changes go to the customer it was merged into.
        """
        add: list[str] = sorted(set(add_tags or []))
        remove: list[str] = sorted(set(remove_tags or []))
        to_set = dict(set_attributes or {})
        to_unset: list[str] = sorted(set(unset_attributes or []))
        check_attribute_names(list(to_set), "set_attributes")
        check_attribute_names(to_unset, "unset_attributes")
        stage: Document = {
            "updated_at": now,
            "tags": {"$setUnion": [{"$setDifference": [{"$ifNull": ["$tags", []]}, remove]}, add]},
            # $literal: attribute values are data, never expressions.
            "attributes": {
                "$mergeObjects": [{"$ifNull": ["$attributes", {}]}, {"$literal": to_set}]
            },
        }
        pipeline: list[Document] = [{"$set": stage}]
        if to_unset:
            pipeline.append({"$unset": [f"attributes.{name}" for name in to_unset]})
        live = await self._merges.live_end(tenant_id, customer_id)
        if live is None:
            raise NotFoundError("customer", customer_id)
        target = live["_id"]
        doc = await self._customers.find_one_and_update(
            {"_id": target, "tenant_id": tenant_id, "merged_into": None},
            pipeline,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # merged between the read and the write
            return await self.update_profile(
                tenant_id,
                target,
                now,
                add_tags=add,
                remove_tags=remove,
                set_attributes=to_set,
                unset_attributes=to_unset,
            )
        return customer_from_doc(doc)

    async def set_first_touch_hook(
        self, tenant_id: str, customer_id: str, hook: str, now: datetime
    ) -> bool:
        """Record the hook that first brought the customer in, unless one is recorded already."""
        result = await self._customers.update_one(
            {"_id": customer_id, "tenant_id": tenant_id, "first_touch_hook": None},
            {"$set": {"first_touch_hook": hook, "updated_at": now}},
        )
        return result.modified_count == 1

    async def set_consent(
        self,
        tenant_id: str,
        customer_id: str,
        channel: str,
        granted: bool,
        now: datetime,
        *,
        source: str = "api",
    ) -> Customer:
        """Record whether the customer agreed to be reached on `channel` (the channel name), what
        recorded it (`source`: `api`, `sms_reply`, `email_unsubscribe`, `oa_unfollow`,
        `import`...) and when (`now`). A merged customer's consent goes to the customer it was
        merged into. `InvalidInputError` for a bad channel or source name."""
        problems = [
            FieldProblem(path=name, message=f"must match {CONSENT_SOURCE_PATTERN}")
            for name, value in (("channel", channel), ("source", source))
            if not _NAME.match(value)
        ]
        if problems:
            raise InvalidInputError(problems)
        record = ChannelConsent.of(granted, source, now)
        live = await self._merges.live_end(tenant_id, customer_id)
        if live is None:
            raise NotFoundError("customer", customer_id)
        doc = await self._customers.find_one_and_update(
            {"_id": live["_id"], "tenant_id": tenant_id, "merged_into": None},
            {"$set": {f"consent.{channel}": record.model_dump(), "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # merged between the read and the write
            return await self.set_consent(
                tenant_id, live["_id"], channel, granted, now, source=source
            )
        return customer_from_doc(doc)
