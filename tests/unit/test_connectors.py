"""The connector registry, the action catalog, and the sandbox channel (which does no I/O)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from pydantic import SecretStr

from connectors import FixedSigningSecrets, default_registry
from connectors.base import ActionRequest, Connector, CustomerContact
from connectors.errors import (
    InvalidActionParamsError,
    PermanentChannelError,
    TransientChannelError,
    UnknownActionError,
    UnknownChannelError,
)
from connectors.registry import ConnectorRegistry
from connectors.sandbox import NoopParams, SandboxConnector, SendMessageParams
from connectors.webhook import PostParams, WebhookConnector, sign, verify_signature

CUSTOMER = CustomerContact(
    customer_id="c-1",
    identities={"wecom_external_userid": "wm-1"},
    attributes={"name": "小林", "coupon": {"code": "NEW10"}, "tier": None},
)


def send(
    params: dict[str, Any], key: str = "t:j:c-1:welcome:1", action: str = "send_message"
) -> ActionRequest:
    return ActionRequest(
        tenant_id="t",
        enrollment_id="t:j:c-1",
        node_id="welcome",
        action=action,
        params=params,
        idempotency_key=key,
        customer=CUSTOMER,
    )


# --- registry ------------------------------------------------------------------------------


def test_registry_returns_the_connector_registered_for_a_channel() -> None:
    sandbox = SandboxConnector()
    registry = ConnectorRegistry([sandbox])
    assert registry.get("sandbox") is sandbox
    assert "sandbox" in registry
    assert "wecom" not in registry


def test_unknown_channel_is_a_permanent_error_naming_the_known_channels() -> None:
    registry = ConnectorRegistry([SandboxConnector()])
    with pytest.raises(UnknownChannelError) as caught:
        registry.get("wecom")
    assert isinstance(caught.value, PermanentChannelError)
    assert caught.value.code == "unknown_channel"
    assert "'wecom'" in str(caught.value)
    assert "sandbox" in str(caught.value)


def test_registering_two_connectors_for_one_channel_is_refused() -> None:
    registry = ConnectorRegistry([SandboxConnector()])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(SandboxConnector())


async def test_default_registry_ships_sandbox_and_webhook_with_their_action_catalog() -> None:
    async with WebhookConnector(FixedSigningSecrets(SecretStr("s3cret"))) as webhook:
        registry = default_registry(webhook)
    assert registry.names() == ["sandbox", "webhook"]
    catalog = registry.catalog()
    assert catalog["sandbox"] == {"send_message": SendMessageParams, "noop": NoopParams}
    assert list(catalog["webhook"]) == ["post"]
    # The webhook's params model is PostParams bound to that connector's destination guard.
    assert issubclass(catalog["webhook"]["post"], PostParams)
    assert catalog["webhook"]["post"].guard is webhook.guard
    assert all(isinstance(registry.get(name), Connector) for name in registry.names())


def test_describe_lists_every_action_with_its_params_json_schema() -> None:
    described = ConnectorRegistry([SandboxConnector()]).describe()
    assert [(d["channel"], d["action"]) for d in described] == [
        ("sandbox", "noop"),
        ("sandbox", "send_message"),
    ]
    send_message = described[1]
    assert send_message["description"]
    assert send_message["params_schema"]["required"] == ["text"]
    assert set(send_message["params_schema"]["properties"]) == {
        "text",
        "to",
        "template",
        "simulate",
    }


def test_catalog_models_validate_journey_params_the_way_the_connector_does() -> None:
    catalog = ConnectorRegistry([SandboxConnector()]).catalog()
    catalog["sandbox"]["send_message"].model_validate({"text": "hi", "to": "group"})
    with pytest.raises(pydantic.ValidationError):
        catalog["sandbox"]["send_message"].model_validate({"text": "hi", "to": "email"})


# --- sandbox -------------------------------------------------------------------------------


async def test_send_message_answers_the_rendered_text_and_a_deterministic_id() -> None:
    first = await SandboxConnector().execute(
        send({"text": "Hi {{ customer.attributes.name }}", "to": "group"})
    )
    again = await SandboxConnector().execute(
        send({"text": "Hi {{ customer.attributes.name }}", "to": "group"})
    )
    other_key = await SandboxConnector().execute(
        send({"text": "Hi {{ customer.attributes.name }}"}, key="k-2")
    )
    other_text = await SandboxConnector().execute(
        send({"text": "Hello {{ customer.attributes.name }}"})
    )

    assert first.detail == {"to": "group", "template": None, "text": "Hi 小林"}
    assert first.external_id is not None and first.external_id.startswith("sbx_")
    assert again.external_id == first.external_id
    assert other_key.external_id != first.external_id
    assert other_text.external_id != first.external_id


async def test_sandbox_sends_each_idempotency_key_once() -> None:
    sandbox = SandboxConnector()
    first = await sandbox.execute(send({"text": "one"}))
    repeated = await sandbox.execute(send({"text": "one"}))
    await sandbox.execute(send({"text": "two"}, key="k-2"))
    assert repeated == first
    assert [outcome.detail["text"] for outcome in sandbox.sent] == ["one", "two"]


async def test_sandbox_forgets_the_oldest_messages_beyond_what_it_keeps() -> None:
    sandbox = SandboxConnector(keep=2)
    for key in ("a", "b", "c"):
        await sandbox.execute(send({"text": key}, key=key))
    assert [outcome.detail["text"] for outcome in sandbox.sent] == ["b", "c"]


async def test_simulated_transient_failure_raises_a_transient_error() -> None:
    sandbox = SandboxConnector()
    with pytest.raises(TransientChannelError):
        await sandbox.execute(send({"text": "hi", "simulate": "transient"}))
    assert sandbox.sent == []


async def test_simulated_permanent_failure_raises_a_permanent_error() -> None:
    with pytest.raises(PermanentChannelError) as caught:
        await SandboxConnector().execute(send({"text": "hi", "simulate": "permanent"}))
    assert caught.value.code == "simulated"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "hi", "to": "email"}, "to"),
        ({"text": "hi", "simulate": "sometimes"}, "simulate"),
        ({"text": "hi", "colour": "red"}, "colour"),
    ],
)
async def test_bad_send_message_params_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidActionParamsError) as caught:
        await SandboxConnector().execute(send(params))
    assert caught.value.code == "invalid_params"
    assert [problem.split(":")[0] for problem in caught.value.problems] == [field]
    assert str(caught.value).startswith("invalid params for sandbox.send_message: ")


async def test_invalid_params_messages_leave_out_the_offending_values() -> None:
    with pytest.raises(InvalidActionParamsError) as caught:
        await SandboxConnector().execute(send({"text": "手机 13800000000" * 200}))
    assert "13800000000" not in str(caught.value)


async def test_noop_takes_no_params_and_does_nothing() -> None:
    sandbox = SandboxConnector()
    outcome = await sandbox.execute(send({}, action="noop"))
    assert outcome.external_id is None
    assert sandbox.sent == []
    with pytest.raises(InvalidActionParamsError):
        await sandbox.execute(send({"text": "hi"}, action="noop"))


async def test_unknown_action_is_permanent_and_lists_the_channel_actions() -> None:
    with pytest.raises(UnknownActionError) as caught:
        await SandboxConnector().execute(send({}, action="broadcast"))
    assert caught.value.code == "unknown_action"
    assert "noop, send_message" in str(caught.value)


# --- request model and signing -------------------------------------------------------------


def test_an_idempotency_key_must_not_be_empty_or_longer_than_a_delivery_key() -> None:
    with pytest.raises(pydantic.ValidationError):
        send({"text": "hi"}, key="")
    with pytest.raises(pydantic.ValidationError):
        send({"text": "hi"}, key="k" * 513)


def test_a_signature_with_a_malformed_timestamp_does_not_verify() -> None:
    body = b'{"a":1}'
    assert verify_signature("k", "1700000000", body, sign("k", "1700000000", body), now=1.7e9)
    assert not verify_signature("k", "soon", body, sign("k", "1700000000", body), now=1.7e9)
