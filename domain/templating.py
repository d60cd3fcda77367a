"""Message text personalised per customer: the one place templates are rendered and checked.

Every connector renders customer-facing text through `render` (via `connectors.base.render_text`),
with the context `template_context` builds from what the action knows of the customer and the
trigger event. Params that hold templates are declared with `template_field`, so that journey
validation can find and check them without knowing the channel.

Today's syntax is `{{name}}` / `{{a.b}}` over the customer's attributes (unknown names render
empty).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

TEMPLATE_MARK = "x-template"
"""The JSON-schema key `template_field` sets on a params field that holds a template."""

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*\}\}")


def template_field(*args: Any, **kwargs: Any) -> Any:
    """A pydantic `Field` marked as holding template text (strings, or string values of a
    mapping / list); takes `Field`'s arguments."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[TEMPLATE_MARK] = "liquid"
    return Field(*args, json_schema_extra=extra, **kwargs)


def template_context(
    attributes: Mapping[str, Any],
    identities: Mapping[str, str] | None = None,
    trigger: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables a template sees."""
    return dict(attributes)


def render(source: str, context: Mapping[str, Any]) -> str:
    """`source` with each `{{name}}` (or `{{a.b}}`) replaced from `context`; unknown ones vanish."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if not isinstance(value, Mapping) or part not in value:
                return ""
            value = value[part]
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(lookup, source)
