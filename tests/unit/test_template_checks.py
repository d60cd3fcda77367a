"""Templates are checked when a journey is validated: syntax errors, unknown variables and
unknown filters, each named per node and field."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from connectors.sandbox import SendMessageParams
from connectors.wecom import WeComConnector
from domain.journey import ActionNode, Edge, EntryNode, ExitNode, JourneyDefinition
from domain.validation import ActionCatalog, Problem, validate_journey

CATALOG: ActionCatalog = {
    "sandbox": {"send_message": SendMessageParams},
    "wecom": {name: spec.params_model for name, spec in WeComConnector.actions.items()},
}


def problems_of(*actions: ActionNode) -> list[Problem]:
    nodes: list[Any] = [EntryNode(id="entry"), *actions, ExitNode(id="done")]
    ids = [node.id for node in nodes]
    edges = [Edge(source=a, label="next", target=b) for a, b in pairwise(ids)]
    return validate_journey(JourneyDefinition(nodes=nodes, edges=edges), CATALOG)


def sms(node_id: str, text: str) -> ActionNode:
    return ActionNode(id=node_id, channel="sandbox", action="send_message", params={"text": text})


def found(problems: list[Problem]) -> list[tuple[str, str | None, str | None]]:
    return [(p.code, p.node_id, p.path) for p in problems]


def test_well_formed_templates_over_the_context_pass() -> None:
    text = (
        "{{ customer.attributes.nickname | default: '朋友' }} {{ customer.id }} "
        "{{ customer.identities.phone }} {{ event.properties.amount | plus: 1 }} {{ event.type }}"
        "{% for o in customer.attributes.orders %}{{ o }}{{ forloop.index }}{% endfor %}"
        "{% assign x = 1 %}{{ x }}{% capture y %}a{% endcapture %}{{ y }}"
    )
    assert problems_of(sms("hello", text)) == []


def test_a_syntax_error_is_reported_on_its_node_and_field() -> None:
    problems = problems_of(sms("ok", "hi"), sms("broken", "hi {{ customer.id "))
    assert found(problems) == [("template_syntax_error", "broken", "params.text")]
    assert "action 'broken' (sandbox.send_message): params.text" in problems[0].message
    assert "line 1" in problems[0].message


def test_an_unknown_root_and_an_unknown_member_are_each_named() -> None:
    problems = problems_of(
        sms("first", "{{ custmer.attributes.x }}"),
        sms("second", "{{ customer.attribtues.x }} {{ nickname }} {{ event.props.a }}"),
    )
    assert found(problems) == [
        ("unknown_template_variable", "first", "params.text"),
        ("unknown_template_variable", "second", "params.text"),
        ("unknown_template_variable", "second", "params.text"),
        ("unknown_template_variable", "second", "params.text"),
    ]
    messages = " | ".join(p.message for p in problems)
    for name in ("`custmer`", "`customer.attribtues`", "`nickname`", "`event.props`"):
        assert name in messages
    assert "templates can use `customer`, `event`" in problems[0].message


def test_an_unknown_filter_is_reported() -> None:
    problems = problems_of(sms("f", "{{ customer.id | upcasse }}"))
    assert found(problems) == [("unknown_template_filter", "f", "params.text")]
    assert "`upcasse`" in problems[0].message


def test_nested_template_fields_of_wecom_params_are_checked_with_their_path() -> None:
    welcome = ActionNode(
        id="welcome",
        channel="wecom",
        action="welcome",
        params={
            "text": "{{ customer.attributes.n | default: '' }}",
            "attachments": [
                {"msgtype": "image", "pic_url": "https://x/{{ not_checked }}"},
                {"msgtype": "link", "title": "{{ custmer.n }}", "url": "https://x/{{ url_ok }}"},
            ],
        },
    )
    problems = problems_of(welcome)
    assert found(problems) == [
        ("unknown_template_variable", "welcome", "params.attachments[1].title")
    ]


def test_templates_are_checked_even_when_other_params_are_invalid() -> None:
    node = ActionNode(
        id="bad",
        channel="sandbox",
        action="send_message",
        params={"text": "{{ oops }}", "to": "email"},
    )
    codes = sorted(p.code for p in problems_of(node))
    assert codes == ["invalid_params", "unknown_template_variable"]


def test_ranges_need_small_literal_bounds() -> None:
    fine = sms("fine", "{% for i in (1..3) %}{{ i }}{% endfor %}")
    huge = sms("huge", '{{ (1..100000000) | join: "," }}')
    open_ended = sms("open", "{% for i in (1..customer.attributes.n) %}x{% endfor %}")

    problems = problems_of(fine, huge, open_ended)

    assert found(problems) == [
        ("template_range_too_large", "huge", "params.text"),
        ("template_range_too_large", "open", "params.text"),
    ]
