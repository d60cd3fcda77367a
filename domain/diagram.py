"""A journey definition as a Mermaid flowchart (`flowchart TD`), optionally with live counts.

Node ids may contain `.`, `:` and `-`, which Mermaid ids cannot, so nodes are named `n1`, `n2`…
in definition order and labelled with their id, kind and name. Labels are quoted and every
character that could end the quote, open a markdown string, start a comment or directive, or be
read as HTML is written as a Mermaid entity code (`#quot;`, `#35;`, `#lt;`...), so user text
cannot break the chart or inject markup.

Goal nodes have no incoming edges (their event reaches them from anywhere); they stand apart.
Each kind's shape and detail line come from the registry (`domain.node_kinds`): entry stadium,
wait parallelogram, wait_for_event hexagon, branch rhombus, action rectangle, update_profile
trapezoid, goal subroutine, exit circle.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.journey import JourneyDefinition, Node
from domain.node_kinds import REGISTRY, kind_of

SHAPES: Mapping[str, tuple[str, str]] = {kind: entry.shape for kind, entry in REGISTRY.items()}
"""Opening and closing brackets of each node kind's Mermaid shape (from the registry)."""

# Mermaid decodes `#<name or number>;` inside labels; everything structural is encoded that way.
_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
    "`": "#96;",
    "%": "#37;",
    "\\": "#92;",
}


def escape(text: str) -> str:
    """`text` safe inside a quoted Mermaid label; line breaks and other control characters become
    spaces."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(" ")
    return "".join(out)


def _label(node: Node, count: int | None) -> str:
    lines = [f"{node.id} · {node.kind}"]
    if node.name:
        lines.append(node.name)
    detail = kind_of(node).detail(node)
    if detail:
        lines.append(detail)
    if count is not None:
        lines.append(f"now: {count}")
    return "<br/>".join(escape(line) for line in lines)


def mermaid(definition: JourneyDefinition, *, node_counts: Mapping[str, int] | None = None) -> str:
    """The Mermaid source of `definition`.

    With `node_counts` (node id → enrollments currently at that node) every node shows a
    `now: N` line, 0 for a node missing from the mapping. An invalid draft is drawn as far as it
    goes: edges naming missing nodes are left out, and a repeated node id is drawn once.
    """
    names: dict[str, str] = {}
    lines = ["flowchart TD"]
    for node in definition.nodes:
        if node.id in names:
            continue
        names[node.id] = f"n{len(names) + 1}"
        opening, closing = SHAPES[node.kind]
        count = None if node_counts is None else node_counts.get(node.id, 0)
        lines.append(f'    {names[node.id]}{opening}"{_label(node, count)}"{closing}')
    for edge in definition.edges:
        if edge.source not in names or edge.target not in names:
            continue
        lines.append(f'    {names[edge.source]} -->|"{escape(edge.label)}"| {names[edge.target]}')
    return "\n".join(lines) + "\n"
