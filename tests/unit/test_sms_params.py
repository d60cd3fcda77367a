"""The `sms` channel's catalog and params: checked before any call, template values marked as
templates (so journey validation checks them) and rendered for the customer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.base import ActionRequest, CustomerContact
from connectors.errors import InvalidActionParamsError
from connectors.registry import ConnectorRegistry
from connectors.sms import SmsConnector, reference_for
from connectors.sms.params import SendParams
from connectors.sms.tencent import e164
from domain.sms import SentSms, SmsSettings
from domain.templating import TEMPLATE_MARK


class _NoCalls:
    async def __call__(self, tenant_id: str) -> SmsSettings | None:
        raise AssertionError("params must be checked before the settings are read")

    async def record(self, message: SentSms) -> None:
        raise AssertionError("nothing may be recorded")


def _request(params: dict[str, Any]) -> ActionRequest:
    return ActionRequest(
        tenant_id="t",
        enrollment_id="e",
        node_id="n",
        action="send",
        params=params,
        idempotency_key="k",
        customer=CustomerContact(customer_id="c", identities={"phone": "13800138000"}),
    )


async def test_the_registry_lists_sms_send_with_its_params_model() -> None:
    async with httpx.AsyncClient() as http:
        connector = SmsConnector(http, _NoCalls(), _NoCalls())
    assert ConnectorRegistry([connector]).catalog() == {"sms": {"send": SendParams}}


def test_template_params_are_declared_as_templates() -> None:
    schema = SendParams.model_json_schema()
    assert schema["properties"]["template_params"][TEMPLATE_MARK] == "liquid"
    assert TEMPLATE_MARK not in schema["properties"]["template"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"template": ""},
        {"template": "SMS 1"},
        {"template": "SMS_1", "extra": 1},
        {"template": "SMS_1", "template_params": {"code": "x" * 501}},
    ],
)
async def test_bad_params_fail_before_anything_is_read_or_sent(params: dict[str, Any]) -> None:
    no_calls = _NoCalls()
    async with httpx.AsyncClient() as http:
        connector = SmsConnector(http, no_calls, no_calls)
        with pytest.raises(InvalidActionParamsError):
            await connector.execute(_request(params))


def test_references_are_short_and_stable_per_key() -> None:
    assert reference_for("t:j:c:n:1") == reference_for("t:j:c:n:1")
    assert reference_for("t:j:c:n:1") != reference_for("t:j:c:n:2")
    assert len(reference_for("k" * 512)) == 32


def test_mainland_mobiles_get_the_86_country_code_for_tencent() -> None:
    assert e164("13800138000") == "+8613800138000"
    assert e164("85291234567") == "+85291234567"
