"""Message text personalised per customer: the one place templates are parsed and rendered.

Templates are Liquid (the python-liquid engine): `{{ customer.attributes.nickname }}`, filters
(`{{ customer.attributes.nickname | default: "朋友" | upcase }}`), `{% if %}`, `{% for %}`,
`{% assign %}`, `{% capture %}`, `{% case %}`. `{% include %}` and `{% render %}` are not
available (a message has no other templates to pull in). Every connector renders customer-facing
text through `render` (via `connectors.base.render_text`), with the context `template_context`
builds. Params that hold templates are declared with `template_field`, so that journey validation
(`domain.template_checks`) finds and checks them without knowing the channel.

The context a template sees (its only roots; anything else is an unknown variable):

| variable | what it is |
|---|---|
| `customer.id` | the customer id (`cus_...`) |
| `customer.attributes.<name>` | a profile attribute (any JSON value; `.size`, `[0]`, `.key` work) |
| `customer.identities.<kind>` | the customer's identity of that kind (`phone`, `unionid`, `wecom_external_userid`...) |
| `event.id`, `event.type`, `event.timestamp` | the event the enrollment last matched (its entry trigger, or the event a `wait_for_event` matched); nil when it has none (enrolled by hand) |
| `event.properties.<name>` | a property of that event (empty when it has none) |

Strict undefined: a variable that is not there (`customer.attributes.nickname` for a customer
without that attribute) is an error, never silently empty; give a fallback with `default`
(`{{ customer.attributes.nickname | default: "朋友" }}`), which is allowed on missing values, and
test for one with `contains` (`{% if customer.attributes contains "vip" %}`).
Top-level attribute names (`{{nickname}}`) are not aliases: every template is written against
the roots above, so that validation can name a misspelt root (`{{ custmer.id }}`) before
publication.

A rendering error (missing variable, a filter's bad argument, a loop or output past the limits
below) raises `TemplateRenderError`; a template that does not parse raises `TemplateSyntaxError`.
Parsed templates are cached (a bounded LRU, `PARSE_CACHE_SIZE`), since the same text is rendered
for every customer of a journey.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import BoundTemplate, Environment, StrictDefaultUndefined
from liquid.exceptions import LiquidError
from pydantic import Field

TEMPLATE_MARK = "x-template"
"""The JSON-schema key `template_field` sets on a params field that holds a template."""

CUSTOMER = "customer"
EVENT = "event"
CONTEXT_KEYS: Mapping[str, frozenset[str]] = {
    CUSTOMER: frozenset({"id", "attributes", "identities"}),
    EVENT: frozenset({"id", "type", "timestamp", "properties"}),
}
"""The context's roots and the members of each (see the module docstring)."""

PARSE_CACHE_SIZE = 1024
"""How many distinct template texts stay parsed (least recently used ones are dropped)."""
DISABLED_TAGS = ("include", "render")
"""Tags that load other templates; a message has none, so they are not tags at all here."""


class TemplateError(ValueError):
    """A template that cannot be used; `message` is one line for people, `line`/`column` where
    (1-based; 0 when unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(f"{message} (line {line}, column {column})" if line else message)
        self.message = message
        self.line = line
        self.column = column


class TemplateSyntaxError(TemplateError):
    """The text is not a valid template."""


class TemplateRenderError(TemplateError):
    """The template parsed but failed for this context (a missing variable, a filter error)."""


class _Environment(Environment):
    # Bounds on what one message can cost; a template is designer input rendered per customer.
    loop_iteration_limit = 10_000
    output_stream_limit = 64 * 1024
    local_namespace_limit = 64 * 1024
    context_depth_limit = 30


def _environment() -> Environment:
    env = _Environment(undefined=StrictDefaultUndefined, strict_filters=True)
    for name in DISABLED_TAGS:
        env.tags.pop(name, None)
    return env


ENVIRONMENT = _environment()
"""The one Liquid environment: strict undefined, strict filters, the limits above."""


def _error(kind: type[TemplateError], exc: LiquidError) -> TemplateError:
    token = exc.token
    if token is None or token.start_index < 0:
        return kind(str(exc.message))
    source, index = token.source, token.start_index
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return kind(str(exc.message), line, column)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(source: str) -> BoundTemplate:
    """`source` parsed (cached); `TemplateSyntaxError` when it is not a valid template."""
    try:
        return ENVIRONMENT.from_string(source)
    except LiquidError as exc:  # syntax errors, and disabled or unknown tags
        raise _error(TemplateSyntaxError, exc) from None


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
    *,
    customer_id: str | None = None,
) -> dict[str, Any]:
    """The variables a template sees (the table in the module docstring).

    `trigger` is the event as the channel activity passes it (`id`, `type`, `timestamp`,
    `properties`), or None.
    """
    event = dict(trigger or {})
    return {
        CUSTOMER: {
            "id": customer_id,
            "attributes": dict(attributes),
            "identities": dict(identities or {}),
        },
        EVENT: {
            "id": event.get("id"),
            "type": event.get("type"),
            "timestamp": event.get("timestamp"),
            "properties": dict(event.get("properties") or {}),
        },
    }


def render(source: str, context: Mapping[str, Any]) -> str:
    """`source` rendered with `context`; `TemplateSyntaxError` / `TemplateRenderError`."""
    template = parse(source)
    try:
        return template.render(**context)
    except LiquidError as exc:
        raise _error(TemplateRenderError, exc) from None
