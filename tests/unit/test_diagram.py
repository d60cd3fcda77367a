"""Journeys drawn as Mermaid flowcharts: shapes, escaping, counts, invalid drafts."""

from __future__ import annotations

import re

from domain.conditions import TagCondition
from domain.diagram import SHAPES, escape, mermaid
from domain.journey import (
    NODE_KINDS,
    ActionNode,
    BranchNode,
    BranchRule,
    Edge,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.templates import canonical_journey

EVERY_KIND = JourneyDefinition(
    nodes=[
        EntryNode(id="start"),
        WaitNode(id="pause", duration="PT1H"),
        WaitForEventNode(id="await_order", event_type="order.paid", timeout="P2D"),
        BranchNode(
            id="vip_or_not", rules=[BranchRule(id="vip", conditions=[TagCondition(tag="vip")])]
        ),
        ActionNode(id="welcome", channel="sandbox", action="send_message"),
        UpdateProfileNode(id="tag", add_tags=["lead"]),
        GoalNode(id="bought", event_type="order.paid"),
        ExitNode(id="done", reason="lapsed"),
    ],
    edges=[
        Edge(source="start", target="pause"),
        Edge(source="pause", target="await_order"),
        Edge(source="await_order", target="vip_or_not", label="matched"),
        Edge(source="await_order", target="done", label="timed_out"),
        Edge(source="vip_or_not", target="welcome", label="vip"),
        Edge(source="vip_or_not", target="tag", label="else"),
        Edge(source="welcome", target="done"),
        Edge(source="tag", target="done"),
    ],
)

NODE_LINE = re.compile(
    r'^    (n\d+)(\(\[|\[/|\{\{|\{|\[\[|\(\(|\[)"([^"]*)"(\]\)|/\]|\\\]|\}\}|\}|\]\]|\)\)|\])$'
)
EDGE_LINE = re.compile(r'^    (n\d+) -->\|"([^"]*)"\| (n\d+)$')


def _node_lines(chart: str) -> dict[str, tuple[str, str, str]]:
    """Mermaid name → (opening, label, closing) for every node line (asserting each parses)."""
    found = {}
    for line in chart.splitlines()[1:]:
        if "-->" in line:
            assert EDGE_LINE.match(line), line
            continue
        match = NODE_LINE.match(line)
        assert match, line
        found[match[1]] = (match[2], match[3], match[4])
    return found


def test_every_node_kind_has_its_own_shape() -> None:
    assert set(SHAPES) == set(NODE_KINDS)
    assert len(set(SHAPES.values())) == len(NODE_KINDS)
    chart = mermaid(EVERY_KIND)
    assert chart.startswith("flowchart TD\n")
    nodes = _node_lines(chart)
    for index, node in enumerate(EVERY_KIND.nodes, start=1):
        opening, label, closing = nodes[f"n{index}"]
        assert (opening, closing) == SHAPES[node.kind], node.kind
        assert label.startswith(f"{node.id} · {node.kind}")


def test_edges_are_drawn_with_their_labels_between_mermaid_names() -> None:
    chart = mermaid(EVERY_KIND)
    assert '    n3 -->|"matched"| n4' in chart
    assert '    n4 -->|"else"| n6' in chart
    assert chart.count("-->") == len(EVERY_KIND.edges)


def test_node_details_name_the_action_event_and_exit_reason() -> None:
    nodes = _node_lines(mermaid(EVERY_KIND))
    assert nodes["n5"][1].endswith("<br/>sandbox.send_message")
    assert nodes["n3"][1].endswith("<br/>order.paid")
    assert nodes["n8"][1].endswith("<br/>lapsed")


def test_hostile_labels_cannot_break_out_of_the_chart() -> None:
    hostile = (
        'x"]) --> n1\nclick n1 call alert(1) %%{init: {"theme":"dark"}}%% '
        "<img src=x onerror=alert(1)> `**md**` | #quot; &amp; \\"
    )
    definition = JourneyDefinition(
        nodes=[
            EntryNode(id="start", name=hostile),
            ExitNode(id="done", name=hostile, reason=hostile[:64]),
        ],
        edges=[Edge(source="start", target="done", label=hostile)],
    )
    chart = mermaid(definition)
    lines = chart.splitlines()
    assert len(lines) == 4  # header, two nodes, one edge: the newline did not add a line
    nodes = _node_lines(chart)
    assert set(nodes) == {"n1", "n2"}
    body = "".join(label for _, label, _ in nodes.values())
    for forbidden in ('"', "<img", "%%", "`", "|", "&amp;", "\\", "\n"):
        assert forbidden not in body.replace("<br/>", "")
    assert "#quot;" in body and "#lt;img" in body and "#35;quot;" in body
    edge = EDGE_LINE.match(lines[3])
    assert edge is not None and edge[1] == "n1" and edge[3] == "n2"


def test_escape_keeps_ordinary_text_and_chinese_as_they_are() -> None:
    assert escape("欢迎 welcome: 10% off") == "欢迎 welcome: 10#37; off"
    assert escape("line one\r\nline two\ttab") == "line one  line two tab"


def test_counts_show_on_every_node_and_zero_where_nobody_is() -> None:
    chart = mermaid(EVERY_KIND, node_counts={"await_order": 3, "welcome": 1})
    nodes = _node_lines(chart)
    assert nodes["n3"][1].endswith("<br/>now: 3")
    assert nodes["n5"][1].endswith("<br/>now: 1")
    assert nodes["n1"][1].endswith("<br/>now: 0")
    assert "now:" not in mermaid(EVERY_KIND)


def test_an_invalid_draft_is_drawn_as_far_as_it_goes() -> None:
    definition = JourneyDefinition(
        nodes=[EntryNode(id="start"), ExitNode(id="start"), ExitNode(id="done")],
        edges=[Edge(source="start", target="done"), Edge(source="start", target="ghost")],
    )
    chart = mermaid(definition)
    assert set(_node_lines(chart)) == {"n1", "n2"}
    assert chart.count("-->") == 1


def test_node_ids_mermaid_cannot_use_are_renamed() -> None:
    definition = JourneyDefinition(
        nodes=[EntryNode(id="entry.v2:a-b"), ExitNode(id="end")],
        edges=[Edge(source="entry.v2:a-b", target="end")],
    )
    chart = mermaid(definition)
    assert '    n1(["entry.v2:a-b · entry"])' in chart
    assert '    n1 -->|"next"| n2' in chart


def test_the_canonical_journey_draws_every_node_once() -> None:
    definition = canonical_journey("real")
    nodes = _node_lines(mermaid(definition))
    assert len(nodes) == len(definition.nodes)
