"""Journey definitions and GraphQL documents the API tests share."""

from __future__ import annotations

from typing import Any


def welcome_journey(timeout: str = "PT60S") -> dict[str, Any]:
    """Pro sign-ups get a welcome, then wait for an order: `bought` or `lapsed`."""
    return {
        "nodes": [
            {
                "kind": "entry",
                "id": "start",
                "trigger": {
                    "type": "event",
                    "event_type": "signup.completed",
                    "where": [{"path": "plan", "op": "eq", "value": "pro"}],
                },
            },
            {
                "kind": "action",
                "id": "welcome",
                "channel": "sandbox",
                "action": "send_message",
                "params": {"text": "Welcome!"},
                "respect_quiet_hours": False,
            },
            {
                "kind": "wait_for_event",
                "id": "await_order",
                "event_type": "order.paid",
                "timeout": timeout,
            },
            {"kind": "exit", "id": "bought", "reason": "bought"},
            {"kind": "exit", "id": "lapsed", "reason": "lapsed"},
        ],
        "edges": [
            {"source": "start", "target": "welcome"},
            {"source": "welcome", "target": "await_order"},
            {"source": "await_order", "target": "bought", "label": "matched"},
            {"source": "await_order", "target": "lapsed", "label": "timed_out"},
        ],
        "settings": {"timezone": "Asia/Shanghai"},
    }


JOURNEY_FIELDS = """
  id name status revision latestVersion liveVersion draft
  problems { code nodeId message path }
  versions { version listenedEventTypes }
"""

CREATE_JOURNEY = f"""
mutation($input: CreateJourneyInput!) {{
  createJourney(input: $input) {{
    __typename
    ... on Journey {{ {JOURNEY_FIELDS} }}
    ... on ValidationFailed {{ problems {{ code nodeId message path }} }}
  }}
}}
"""

UPDATE_JOURNEY = f"""
mutation($id: ID!, $rev: Int!, $definition: JSON) {{
  updateJourney(id: $id, expectedRevision: $rev, definition: $definition) {{
    __typename
    ... on Journey {{ {JOURNEY_FIELDS} }}
    ... on ValidationFailed {{ problems {{ code nodeId message path }} }}
    ... on Conflict {{ message }}
    ... on NotFound {{ message }}
  }}
}}
"""

PUBLISH_JOURNEY = f"""
mutation($id: ID!) {{
  publishJourney(id: $id) {{
    __typename
    ... on Journey {{ {JOURNEY_FIELDS} }}
    ... on ValidationFailed {{ problems {{ code nodeId message path }} }}
    ... on NotFound {{ message }}
    ... on Conflict {{ message }}
  }}
}}
"""
