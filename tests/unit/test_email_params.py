"""The `email.send` params: templates are declared as such, bad params name their field before
any SMTP connection, and header text cannot be broken into new headers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import ActionRequest, CustomerContact
from connectors.email import EmailConnector
from connectors.email.message import Envelope, build_message
from connectors.email.params import SendParams
from connectors.errors import InvalidActionParamsError
from domain.email import EmailSettings
from domain.templating import TEMPLATE_MARK


class _NoAccounts:
    """Fails the test if the connector reads settings for bad params."""

    async def get(self, tenant_id: str) -> EmailSettings | None:
        raise AssertionError("settings read before params were validated")

    async def unsubscribe_key(self, tenant_id: str, now: datetime) -> SecretStr:
        raise AssertionError("key read before params were validated")


def test_subject_and_bodies_are_template_fields_and_from_name_is_not() -> None:
    properties = SendParams.model_json_schema()["properties"]
    assert {name for name, field in properties.items() if TEMPLATE_MARK in field} == {
        "subject",
        "text",
        "html",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"text": "hi"}, "subject"),
        ({"subject": "hi"}, "text"),
        ({"subject": "s", "text": "t", "from_name": "a\r\nBcc: x@y.example"}, "from_name"),
        ({"subject": "s", "text": "t", "cc": "x@y.example"}, "cc"),
    ],
)
async def test_bad_params_name_the_field_before_anything_is_read(
    params: dict[str, Any], field: str
) -> None:
    request = ActionRequest(
        tenant_id="t",
        enrollment_id="t:j:c",
        node_id="mail",
        action="send",
        params=params,
        idempotency_key="t:j:c/mail/1",
        customer=CustomerContact(customer_id="c", identities={"email": "a@b.example"}),
    )
    with pytest.raises(InvalidActionParamsError, match=field):
        await EmailConnector(_NoAccounts(), "https://x.example").execute(request)


def test_line_breaks_in_a_rendered_subject_cannot_add_headers() -> None:
    envelope = Envelope(
        from_address="news@brand.example",
        from_name="News",
        to="lin@shop.example",
        subject="Hi\r\nBcc: victim@else.example",
        message_id="<x@brand.example>",
        sent_at=datetime(2026, 12, 1, tzinfo=UTC),
        unsubscribe_url="https://u.example/v1/unsubscribe/t",
    )
    message = build_message(envelope, "body", None)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: victim@else.example"
    assert message["List-Unsubscribe"] == "<https://u.example/v1/unsubscribe/t>"
