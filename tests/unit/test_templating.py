"""Liquid rendering of message text: the context, strict undefined, filters, the parse cache."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from connectors.base import ActionRequest, CustomerContact, render_params, render_text
from connectors.errors import PermanentChannelError
from connectors.wecom.params import MassMessageParams
from domain import templating
from domain.templating import (
    TemplateRenderError,
    TemplateSyntaxError,
    parse,
    render,
    template_context,
    template_field,
)

CONTEXT = template_context(
    {"nickname": "小林", "coupon": {"code": "NEW10"}, "tier": None, "orders": [3, 5]},
    {"phone": "13800138000"},
    {
        "id": "ev-1",
        "type": "order.paid",
        "timestamp": "2026-01-02T03:04:05+00:00",
        "properties": {"amount": 99},
    },
    customer_id="cus_1",
)


def request(text: str, **attributes: object) -> ActionRequest:
    return ActionRequest(
        tenant_id="t",
        enrollment_id="e",
        node_id="welcome",
        action="send_message",
        params={"text": text},
        idempotency_key="k",
        customer=CustomerContact(customer_id="cus_9", attributes=dict(attributes)),
    )


def test_the_context_has_the_customer_and_the_event_under_their_roots() -> None:
    text = (
        "{{ customer.id }} {{ customer.attributes.nickname }} {{ customer.attributes.coupon.code }}"
        " {{ customer.identities.phone }} {{ event.type }} {{ event.id }}"
        " {{ event.properties.amount }} {{ customer.attributes.orders.size }}"
    )
    assert render(text, CONTEXT) == "cus_1 小林 NEW10 13800138000 order.paid ev-1 99 2"


def test_without_a_trigger_the_event_members_are_nil_and_its_properties_empty() -> None:
    context = template_context({}, None, None)
    assert render("[{{ event.type }}][{{ event.properties.size }}]", context) == "[][0]"


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(TemplateRenderError, match=r"customer\.attributes\.nope is undefined"):
        render("hi {{ customer.attributes.nope }}", CONTEXT)
    with pytest.raises(TemplateRenderError, match="nickname"):
        render("hi {{ nickname }}", CONTEXT)  # top-level attribute names are no aliases


def test_default_gives_a_fallback_for_a_missing_or_nil_value() -> None:
    text = "{{ customer.attributes.nope | default: '朋友' }}/{{ customer.attributes.tier | default: 'x' }}"
    assert render(text, CONTEXT) == "朋友/x"


def test_filters_tags_and_control_flow_work() -> None:
    text = (
        "{{ customer.attributes.nickname | append: '!' }} {{ event.properties.amount | plus: 1 }}"
        "{% if event.properties.amount > 50 %} big{% endif %}"
        "{% for n in customer.attributes.orders %} {{ n | times: 2 }}{% endfor %}"
        "{% assign c = customer.attributes.coupon.code | downcase %} {{ c }}"
    )
    assert render(text, CONTEXT) == "小林! 100 big 6 10 new10"


def test_a_filter_failure_names_where_it_happened() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render("a\nb {{ 5 | divided_by: 0 }}", CONTEXT)
    assert (caught.value.line, caught.value.column) == (2, 10)  # at the filter
    assert "divided_by" in caught.value.message


def test_unclosed_output_and_include_are_syntax_errors() -> None:
    with pytest.raises(TemplateSyntaxError):
        render("hi {{ customer.id ", CONTEXT)
    with pytest.raises(TemplateSyntaxError, match="include"):
        render("{% include 'other' %}", CONTEXT)


def test_a_runaway_loop_is_stopped() -> None:
    with pytest.raises(TemplateRenderError):
        render("{% for i in (1..100000) %}x{% endfor %}", CONTEXT)


def test_the_same_text_is_parsed_once_and_the_cache_is_bounded() -> None:
    parse.cache_clear()
    for _ in range(3):
        render("cached {{ customer.id }}", CONTEXT)
    info = parse.cache_info()
    assert (info.misses, info.hits, info.maxsize) == (1, 2, templating.PARSE_CACHE_SIZE)
    for i in range(templating.PARSE_CACHE_SIZE + 5):
        parse(f"t{i}")
    assert parse.cache_info().currsize == templating.PARSE_CACHE_SIZE


def test_render_text_turns_a_template_error_into_a_permanent_error_naming_the_node() -> None:
    assert (
        render_text(
            request("hi {{ customer.attributes.n }}", n="A"), "hi {{ customer.attributes.n }}"
        )
        == "hi A"
    )
    with pytest.raises(PermanentChannelError) as caught:
        render_text(request("x"), "hi {{ customer.attributes.n }}")
    assert caught.value.code == "template_error"
    assert "node 'welcome'" in caught.value.message
    assert "customer.attributes.n is undefined" in caught.value.message


class Card(BaseModel):
    title: str = template_field()
    url: str


class Params(BaseModel):
    text: str = template_field()
    extra: dict[str, object] = template_field(default_factory=dict)
    cards: list[Card] = []
    plain: str = "{{ customer.id }}"


def test_render_params_renders_marked_fields_at_any_depth_and_nothing_else() -> None:
    params = Params(
        text="{{ customer.id }}",
        extra={"a": ["{{ customer.id }}", 1], "b": "{{ customer.id }}"},
        cards=[Card(title="T {{ customer.id }}", url="{{ customer.id }}")],
    )
    rendered = render_params(request("x"), params)
    assert rendered.text == "cus_9"
    assert rendered.extra == {"a": ["cus_9", 1], "b": "cus_9"}
    assert rendered.cards == [Card(title="T cus_9", url="{{ customer.id }}")]
    assert rendered.plain == "{{ customer.id }}"


def test_wecom_message_text_and_link_cards_are_rendered() -> None:
    params = MassMessageParams.model_validate(
        {
            "text": "你好 {{ customer.attributes.n }}",
            "attachments": [
                {
                    "msgtype": "link",
                    "title": "{{ customer.attributes.n }}的券",
                    "url": "https://x/{{ customer.id }}",
                }
            ],
        }
    )
    content = render_params(request("x", n="小林"), params).content()
    assert content["text"] == {"content": "你好 小林"}
    assert content["attachments"][0]["link"]["title"] == "小林的券"
    assert content["attachments"][0]["link"]["url"] == "https://x/{{ customer.id }}"


def test_contains_tests_for_an_attribute_without_touching_a_missing_one() -> None:
    text = "{% if customer.attributes contains 'nickname' %}A{% endif %}"
    text += "{% if customer.attributes contains 'vip' %}B{% endif %}"
    assert render(text, CONTEXT) == "A"
