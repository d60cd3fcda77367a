"""WeCom callbacks over the real app, MongoDB and Temporal: verified, de-duplicated, ingested."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from connectors.registry import ConnectorRegistry
from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.envelope import CallbackCodec, flat_xml, seal
from domain.channels import WeComCredentials, new_callback_id
from domain.hooks import Hook
from domain.journey import Edge, EntryNode, EventTrigger, ExitNode, JourneyDefinition
from store.database import Store
from tests.api.support import TenantKeys
from workflows.converter import DATA_CONVERTER

CORP = "ww-callbacks"
TOKEN = "callback-token"
TIMESTAMP = "1772330400"
NONCE = "n0nce"


def aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode("ascii")[:43]


async def drained(app: Starlette) -> None:
    """Wait for the background work callbacks leave (noting contacts, routing)."""
    await app.state.services.drain()


def credentials_of(tenant_id: str, callback_id: str) -> WeComCredentials:
    """Credentials of `CORP` under `TOKEN` and a fresh AES key."""
    return WeComCredentials.model_validate(
        {
            "tenant_id": tenant_id,
            "corp_id": CORP,
            "secret": "app-secret",
            "callback_token": TOKEN,
            "encoding_aes_key": aes_key(),
            "callback_id": callback_id,
        }
    )


@pytest.fixture
async def credentials(store: Store, tenant: TenantKeys) -> WeComCredentials:
    creds = credentials_of(tenant.tenant_id, new_callback_id())
    await store.wecom_credentials.put(creds)
    return creds


def crypto_of(credentials: WeComCredentials) -> WeComCrypto:
    return WeComCrypto(TOKEN, credentials.encoding_aes_key.get_secret_value(), credentials.corp_id)


def added(external_userid: str, **extra: str) -> dict[str, str]:
    message = {
        "ToUserName": CORP,
        "FromUserName": "sys",
        "CreateTime": TIMESTAMP,
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": "add_external_contact",
        "UserID": "zhangsan",
        "ExternalUserID": external_userid,
        "WelcomeCode": "WELCOME-1",
    }
    message.update(extra)
    return message


def url(credentials: WeComCredentials) -> str:
    return f"/v1/callbacks/wecom/{credentials.callback_id}"


def query(body: bytes) -> dict[str, str]:
    """The signature WeCom puts in the query is the one inside the sealed envelope."""
    text = body.decode("utf-8")
    signature = text.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    return {"msg_signature": signature, "timestamp": TIMESTAMP, "nonce": NONCE}


def sealed(crypto: WeComCrypto, message: dict[str, Any]) -> bytes:
    return seal(crypto, flat_xml(message), TIMESTAMP, NONCE)


async def post(
    client: httpx.AsyncClient, path: str, body: bytes, params: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        path, content=body, params=params if params is not None else query(body)
    )


async def events_of(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    found = store.db["events"].find({"tenant_id": tenant_id})
    return [doc async for doc in found]


async def test_a_valid_callback_is_stored_as_an_event_and_acknowledged(
    wecom_app: Starlette,
    wecom_api: httpx.AsyncClient,
    store: Store,
    credentials: WeComCredentials,
) -> None:
    external = f"wm-{uuid.uuid4().hex[:8]}"
    body = sealed(crypto_of(credentials), added(external, State="unknown-state"))

    response = await post(wecom_api, url(credentials), body)
    await drained(wecom_app)

    assert response.status_code == 200
    assert response.text == "success"
    assert response.headers["content-type"].startswith("text/plain")
    customer = await store.customers.get_by_identity(
        credentials.tenant_id, "wecom_external_userid", external
    )
    assert customer is not None
    assert customer.attributes["wecom_follow_user"] == "zhangsan"
    page = await store.events.list_for_customer(credentials.tenant_id, customer.id)
    [event] = page.items
    assert event.type == "wecom.contact_added"
    assert event.timestamp == datetime.fromtimestamp(int(TIMESTAMP), UTC)
    assert event.properties["welcome_code"] == "WELCOME-1"
    assert event.properties["state"] == "unknown-state"
    assert event.properties["hook_id"] is None


async def test_a_content_length_of_other_digits_is_not_trusted_and_not_a_crash(
    wecom_app: Starlette, wecom_api: httpx.AsyncClient, credentials: WeComCredentials
) -> None:
    body = sealed(crypto_of(credentials), added(f"wm-{uuid.uuid4().hex[:8]}"))
    # b"\xb2" is "²" in Latin-1, the encoding of HTTP header values: a digit to `isdigit`.
    response = await wecom_api.post(
        url(credentials), content=body, params=query(body), headers=[(b"content-length", b"\xb2")]
    )
    await drained(wecom_app)

    assert response.status_code == 200 and response.text == "success"


async def test_an_add_through_a_hook_is_attributed_to_it(
    wecom_app: Starlette,
    wecom_api: httpx.AsyncClient,
    store: Store,
    credentials: WeComCredentials,
) -> None:
    now = datetime.now(UTC)
    hook = Hook(
        id="hook_0000000000000000000000000001",
        tenant_id=credentials.tenant_id,
        name="douyin spring",
        kind="contact_way",
        state="h_spring",
        config_id="cfg-1",
        qr_code="https://example.invalid/qr.png",
        staff_users=["zhangsan"],
        created_at=now,
        updated_at=now,
    )
    await store.hooks.insert(hook)
    external = f"wm-{uuid.uuid4().hex[:8]}"
    body = sealed(crypto_of(credentials), added(external, State="h_spring"))

    assert (await post(wecom_api, url(credentials), body)).text == "success"
    await drained(wecom_app)

    customer = await store.customers.get_by_identity(
        credentials.tenant_id, "wecom_external_userid", external
    )
    assert customer is not None
    assert customer.first_touch_hook == "h_spring"
    [event] = (await store.events.list_for_customer(credentials.tenant_id, customer.id)).items
    assert event.properties["hook_id"] == hook.id


async def test_the_same_callback_sent_twice_stores_one_event(
    wecom_api: httpx.AsyncClient, store: Store, credentials: WeComCredentials
) -> None:
    body = sealed(crypto_of(credentials), added(f"wm-{uuid.uuid4().hex[:8]}"))

    first = await post(wecom_api, url(credentials), body)
    retry = await post(wecom_api, url(credentials), body)

    assert (first.text, retry.text) == ("success", "success")
    assert len(await events_of(store, credentials.tenant_id)) == 1
    assert await store.wecom_callbacks.count(credentials.tenant_id) == 1


async def test_url_verification_answers_the_decrypted_echostr(
    wecom_api: httpx.AsyncClient, credentials: WeComCredentials
) -> None:
    crypto = crypto_of(credentials)
    echostr = crypto.encrypt(b"echo-4711")
    params = {
        "msg_signature": crypto.sign(TIMESTAMP, NONCE, echostr),
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
        "echostr": echostr,
    }

    response = await wecom_api.get(url(credentials), params=params)

    assert response.status_code == 200
    assert response.text == "echo-4711"


async def test_url_verification_with_a_bad_signature_is_forbidden(
    wecom_api: httpx.AsyncClient, credentials: WeComCredentials
) -> None:
    echostr = crypto_of(credentials).encrypt(b"echo")
    params = {"msg_signature": "0" * 40, "timestamp": TIMESTAMP, "nonce": NONCE, "echostr": echostr}

    response = await wecom_api.get(url(credentials), params=params)

    assert response.status_code == 403
    assert "echo" not in response.text


async def test_an_unknown_callback_url_is_not_found(
    wecom_api: httpx.AsyncClient, credentials: WeComCredentials
) -> None:
    body = sealed(crypto_of(credentials), added("wm-x"))

    posted = await post(wecom_api, "/v1/callbacks/wecom/" + new_callback_id(), body)
    verified = await wecom_api.get("/v1/callbacks/wecom/" + new_callback_id())

    assert posted.status_code == 404
    assert verified.status_code == 404


async def test_a_server_without_wecom_answers_unavailable(
    api: httpx.AsyncClient, credentials: WeComCredentials
) -> None:
    body = sealed(crypto_of(credentials), added("wm-x"))

    response = await post(api, url(credentials), body)

    assert response.status_code == 503


def _flip(text: str, at: int) -> str:
    swapped = "A" if text[at] != "A" else "B"
    return text[:at] + swapped + text[at + 1 :]


def _resign(crypto: WeComCrypto, encrypted: str) -> tuple[bytes, dict[str, str]]:
    body = flat_xml({"Encrypt": encrypted}).encode("utf-8")
    params = {
        "msg_signature": crypto.sign(TIMESTAMP, NONCE, encrypted),
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
    }
    return body, params


Tamper = Callable[[WeComCredentials, str], tuple[bytes, dict[str, str]]]


def forged_signature(credentials: WeComCredentials, external: str) -> tuple[bytes, dict[str, str]]:
    body = sealed(crypto_of(credentials), added(external))
    return body, {**query(body), "msg_signature": "f" * 40}


def signed_with_another_token(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    other = WeComCrypto("not-the-token", credentials.encoding_aes_key.get_secret_value(), CORP)
    body = sealed(other, added(external))
    return body, query(body)


def ciphertext_changed_after_signing(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    crypto = crypto_of(credentials)
    encrypted = crypto.encrypt(flat_xml(added(external)).encode("utf-8"))
    params = {
        "msg_signature": crypto.sign(TIMESTAMP, NONCE, encrypted),
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
    }
    return flat_xml({"Encrypt": _flip(encrypted, 30)}).encode("utf-8"), params


def ciphertext_corrupted_and_resigned(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    crypto = crypto_of(credentials)
    encrypted = crypto.encrypt(flat_xml(added(external)).encode("utf-8"))
    return _resign(crypto, _flip(encrypted, len(encrypted) - 10))


def truncated_ciphertext(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    crypto = crypto_of(credentials)
    encrypted = crypto.encrypt(flat_xml(added(external)).encode("utf-8"))
    return _resign(crypto, encrypted[: len(encrypted) // 2])


def truncated_body(credentials: WeComCredentials, external: str) -> tuple[bytes, dict[str, str]]:
    body = sealed(crypto_of(credentials), added(external))
    return body[: len(body) // 2], query(body)


def encrypted_with_the_wrong_key(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    wrong = WeComCrypto(TOKEN, aes_key(), CORP)
    body = sealed(wrong, added(external))
    return body, query(body)


def encrypted_for_another_corp(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    other = WeComCrypto(TOKEN, credentials.encoding_aes_key.get_secret_value(), "ww-other")
    body = sealed(other, added(external, ToUserName="ww-other"))
    return body, query(body)


def addressed_to_another_corp(
    credentials: WeComCredentials, external: str
) -> tuple[bytes, dict[str, str]]:
    body = sealed(crypto_of(credentials), added(external, ToUserName="ww-other"))
    return body, query(body)


def missing_signature(credentials: WeComCredentials, external: str) -> tuple[bytes, dict[str, str]]:
    body = sealed(crypto_of(credentials), added(external))
    params = query(body)
    del params["msg_signature"]
    return body, params


def not_xml(credentials: WeComCredentials, external: str) -> tuple[bytes, dict[str, str]]:
    return b'{"Encrypt": "x"}', {"msg_signature": "a" * 40, "timestamp": "1", "nonce": "n"}


def entity_expansion(credentials: WeComCredentials, external: str) -> tuple[bytes, dict[str, str]]:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>'
        b"<xml><Encrypt>&a;</Encrypt></xml>"
    )
    return body, {"msg_signature": "a" * 40, "timestamp": "1", "nonce": "n"}


def oversized(credentials: WeComCredentials, external: str) -> tuple[bytes, dict[str, str]]:
    body = sealed(crypto_of(credentials), added(external, Padding="x" * 70_000))
    return body, query(body)


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        (forged_signature, 403),
        (signed_with_another_token, 403),
        (ciphertext_changed_after_signing, 403),
        (ciphertext_corrupted_and_resigned, 400),
        (truncated_ciphertext, 400),
        (truncated_body, 400),
        (encrypted_with_the_wrong_key, 400),
        (encrypted_for_another_corp, 400),
        (addressed_to_another_corp, 400),
        (missing_signature, 400),
        (not_xml, 400),
        (entity_expansion, 400),
        (oversized, 413),
    ],
)
async def test_a_tampered_callback_is_rejected_and_changes_nothing(
    wecom_api: httpx.AsyncClient,
    store: Store,
    credentials: WeComCredentials,
    tamper: Tamper,
    status: int,
) -> None:
    external = f"wm-{uuid.uuid4().hex[:8]}"
    body, params = tamper(credentials, external)

    response = await post(wecom_api, url(credentials), body, params)

    assert response.status_code == status, response.text
    assert response.text != "success"
    assert await events_of(store, credentials.tenant_id) == []
    assert await store.wecom_callbacks.count(credentials.tenant_id) == 0
    customer = await store.customers.get_by_identity(
        credentials.tenant_id, "wecom_external_userid", external
    )
    assert customer is None


async def test_a_group_join_becomes_one_event_per_member(
    wecom_api: httpx.AsyncClient, store: Store, credentials: WeComCredentials
) -> None:
    members = [f"wm-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    message = {
        "ToUserName": CORP,
        "FromUserName": "sys",
        "CreateTime": TIMESTAMP,
        "MsgType": "event",
        "Event": "change_external_chat",
        "ChatId": "wr-group-1",
        "ChangeType": "update",
        "UpdateDetail": "add_member",
        "JoinScene": 3,
        "MemChangeCnt": 2,
        "MemChangeList": members,
    }
    body = sealed(crypto_of(credentials), message)

    assert (await post(wecom_api, url(credentials), body)).text == "success"

    stored = await events_of(store, credentials.tenant_id)
    assert sorted(doc["identity"]["wecom_external_userid"] for doc in stored) == sorted(members)
    assert {doc["type"] for doc in stored} == {"wecom.group_joined"}
    assert {doc["properties"]["chat_id"] for doc in stored} == {"wr-group-1"}
    assert {doc["properties"]["join_scene"] for doc in stored} == {3}


async def test_a_kind_journeys_ignore_is_acknowledged_and_stores_no_event(
    wecom_api: httpx.AsyncClient, store: Store, credentials: WeComCredentials
) -> None:
    message = {
        "ToUserName": CORP,
        "CreateTime": TIMESTAMP,
        "MsgType": "event",
        "Event": "change_external_tag",
        "Id": "et-tag-1",
        "TagType": "tag",
        "ChangeType": "create",
    }
    body = sealed(crypto_of(credentials), message)

    response = await post(wecom_api, url(credentials), body)

    assert response.text == "success"
    assert await events_of(store, credentials.tenant_id) == []
    handled = await store.wecom_callbacks.count(credentials.tenant_id)
    assert handled == 1


async def test_a_callback_is_acknowledged_once_stored_even_when_routing_fails(
    store: Store,
    registry: ConnectorRegistry,
    temporal_env: WorkflowEnvironment,
    credentials: WeComCredentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = datetime.now(UTC)
    entry = EntryNode(id="entry", trigger=EventTrigger(event_type="wecom.contact_added"))
    definition = JourneyDefinition(
        nodes=[entry, ExitNode(id="done", reason="done")],
        edges=[Edge(source="entry", target="done", label="next")],
    )
    journey = await store.journeys.create(credentials.tenant_id, "added", now, draft=definition)
    await store.journeys.publish(
        credentials.tenant_id, journey.id, definition, definition.listened_event_types(), now
    )
    # A real client whose namespace does not exist: every workflow start is refused.
    broken = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=f"missing-{uuid.uuid4().hex[:8]}",
        data_converter=DATA_CONVERTER,
    )
    app = create_app(store, broken, registry, wecom_codec=CallbackCodec())
    external = f"wm-{uuid.uuid4().hex[:8]}"
    body = sealed(crypto_of(credentials), added(external))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        response = await post(client, url(credentials), body)
    await drained(app)

    assert (response.status_code, response.text) == (200, "success")
    [stored] = await events_of(store, credentials.tenant_id)
    assert stored["identity"] == {"wecom_external_userid": external}
    assert "routing event" in caplog.text
    customer = await store.customers.get_by_identity(
        credentials.tenant_id, "wecom_external_userid", external
    )
    assert customer is not None
    assert await store.enrollments.running_for_customer(credentials.tenant_id, customer.id) == []
