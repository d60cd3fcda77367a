"""Search attributes (Keyword, no PII) set on every journey workflow, for ops and reconciliation.

Register them on any Temporal namespace the worker uses (the embedded dev server does it at
start-up; production runs `temporal operator search-attribute create` for each).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TENANT = SearchAttributeKey.for_keyword("OmniTenant")
JOURNEY = SearchAttributeKey.for_keyword("OmniJourney")
NODE = SearchAttributeKey.for_keyword("OmniNode")
STATUS = SearchAttributeKey.for_keyword("OmniStatus")

ALL: tuple[SearchAttributeKey[str], ...] = (TENANT, JOURNEY, NODE, STATUS)
