"""Search attributes (Keyword, no PII) set on every journey workflow, for ops and reconciliation.

Register them on any Temporal namespace the worker uses (the embedded dev server does it at
start-up; production runs `temporal operator search-attribute create` for each).
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

TENANT = SearchAttributeKey.for_keyword("OmniTenant")
JOURNEY = SearchAttributeKey.for_keyword("OmniJourney")
NODE = SearchAttributeKey.for_keyword("OmniNode")
STATUS = SearchAttributeKey.for_keyword("OmniStatus")

ALL: tuple[SearchAttributeKey[str], ...] = (TENANT, JOURNEY, NODE, STATUS)


async def register(client: Client) -> None:
    """Register every key on the client's namespace (idempotent: existing keys are kept)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as err:
        # the time-skipping test server can add search attributes but not list them
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in ALL
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
