"""Checking an action node's templates before a journey is saved or published.

Every template string of the node's params (the fields marked with `template_field`, found by
`domain.template_fields`) is parsed and analysed statically:

| code | what is wrong |
|---|---|
| `template_syntax_error` | the text does not parse as a template (unclosed `{{`, an unknown tag) |
| `unknown_template_variable` | a variable whose root is not in the context (`{{ custmer.id }}`), or a member the root does not have (`{{ customer.attribtues.x }}`) |
| `unknown_template_filter` | a filter the engine does not have (`{{ x | upcasse }}`) |
| `template_range_too_large` | a range (`(1..n)`) whose bounds are not number literals, or that spans more than `MAX_RANGE` numbers: a range is built whole before any output limit applies, so an unbounded one could exhaust the worker's memory |

Attribute names, identity kinds and event properties cannot be known before run time; a missing
one fails that customer's send (see `domain.templating`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.template_fields import raw_template_strings, template_strings
from domain.templating import CONTEXT_KEYS, ENVIRONMENT, TemplateSyntaxError, parse


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One thing wrong with a template: a stable `code`, a message for people (naming the
    field), and the field's `path` inside the node (`params.text`)."""

    code: str
    message: str
    path: str


def check_params(node_label: str, model: type[BaseModel], params: Any) -> list[TemplateProblem]:
    """The problems of every template in `params` (validated as `model` where possible);
    `node_label` starts each message (`action 'welcome' (wecom.welcome)`)."""
    try:
        found: Iterator[tuple[str, str]] = template_strings(model.model_validate(params))
    except ValidationError:
        found = raw_template_strings(model, params)
    problems: list[TemplateProblem] = []
    for path, source in found:
        problems.extend(check_template(node_label, path, source))
    return problems


MAX_RANGE = 1000
"""The most numbers a template's range may span."""

_RANGE = re.compile(r"\(\s*([^()]*?)\s*\.\.\s*([^()]*?)\s*\)")
_INTEGER = re.compile(r"^-?\d{1,9}$")


def _range_problems(node_label: str, path: str, source: str) -> list[TemplateProblem]:
    problems = []
    for match in _RANGE.finditer(source):
        low, high = match.group(1), match.group(2)
        literal = bool(_INTEGER.match(low) and _INTEGER.match(high))
        if literal and int(high) - int(low) < MAX_RANGE:
            continue
        problems.append(
            TemplateProblem(
                "template_range_too_large",
                f"{node_label}: {path}: range `{match.group(0)}` must have number bounds "
                f"spanning at most {MAX_RANGE}",
                path,
            )
        )
    return problems


def check_template(node_label: str, path: str, source: str) -> list[TemplateProblem]:
    """The problems of one template at `path`."""
    ranges = _range_problems(node_label, path, source)
    if ranges:
        return ranges
    try:
        template = parse(source)
    except TemplateSyntaxError as exc:
        return [
            TemplateProblem(
                "template_syntax_error", f"{node_label}: {path}: template error: {exc}", path
            )
        ]
    analysis = template.analyze()
    problems: list[TemplateProblem] = []
    reported: set[str] = set()
    for root, uses in analysis.globals.items():
        for use in uses:
            name = _unknown(root, use.segments)
            if name is None or name in reported:
                continue
            reported.add(name)
            roots = ", ".join(f"`{key}`" for key in CONTEXT_KEYS)
            members = CONTEXT_KEYS.get(root)
            known = (
                f"`{root}` has " + ", ".join(f"`{m}`" for m in sorted(members))
                if members is not None
                else f"templates can use {roots}"
            )
            problems.append(
                TemplateProblem(
                    "unknown_template_variable",
                    f"{node_label}: {path}: unknown variable `{name}` ({known})",
                    path,
                )
            )
    for name in analysis.filters:
        if name not in ENVIRONMENT.filters:
            problems.append(
                TemplateProblem(
                    "unknown_template_filter",
                    f"{node_label}: {path}: unknown filter `{name}`",
                    path,
                )
            )
    return problems


def _unknown(root: str, segments: Any) -> str | None:
    """The unknown part of a variable (`custmer`, `customer.attribtues`), or None when known."""
    members = CONTEXT_KEYS.get(root)
    if members is None:
        return root
    if len(segments) > 1 and isinstance(segments[1], str) and segments[1] not in members:
        return f"{root}.{segments[1]}"
    return None
