"""The start-up re-seal shared by the repositories that hold secrets."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pymongo.asynchronous.collection import AsyncCollection

from store.mongo import Document
from store.secretbox import SecretBox, SecretError, SecretPlace, UnknownSecretKey

log = logging.getLogger(__name__)


async def reseal_fields(
    documents: AsyncCollection[Document], fields: Sequence[str], box: SecretBox
) -> int:
    """Seal every plain-text value of `fields` and re-seal every value sealed under a key other
    than the primary one; how many values changed.

    Each write is conditional on the value read, so two processes starting at once (or a write
    in between) never overwrite a newer value. Values under a key the box lacks are left as
    they are and reported together at the end (`SecretError` naming the key ids).
    """
    wanted = [
        clause
        for name in fields
        for clause in (
            {name: {"$type": "string"}},
            {f"{name}.kid": {"$exists": True, "$ne": box.primary_key_id}},
        )
    ]
    changed = 0
    missing: set[str] = set()
    projection = {"tenant_id": 1, **dict.fromkeys(fields, 1)}
    async for doc in documents.find({"$or": wanted}, projection):
        for name in fields:
            stored = doc.get(name)
            if stored is None or not box.needs_reseal(stored):
                continue
            place = SecretPlace(doc["tenant_id"], documents.name, name)
            try:
                plaintext = box.reveal(stored, place)
            except UnknownSecretKey as exc:
                missing.add(exc.key_id)
                continue
            same = {name: stored} if isinstance(stored, str) else {f"{name}.ct": stored["ct"]}
            result = await documents.update_one(
                {"_id": doc["_id"], **same}, {"$set": {name: box.seal(plaintext, place)}}
            )
            changed += result.modified_count
    if changed:
        log.info(
            "re-sealed %d secret(s) in %s under key %r", changed, documents.name, box.primary_key_id
        )
    if missing:
        raise SecretError(
            f"secrets in {documents.name} are sealed under key id(s) {sorted(missing)} that "
            "SECRETS_KEYS does not hold: add them back to SECRETS_KEYS"
        )
    return changed
