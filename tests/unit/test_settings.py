"""Settings are read from the documented environment variables, validated, and keep secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime.settings import Settings, env_names


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_names():
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_everything_embedded_on_localhost() -> None:
    settings = Settings()
    assert settings.uses_embedded_mongodb
    assert settings.uses_embedded_temporal
    assert settings.mongodb_database == "omnijourney"
    assert settings.temporal_namespace == "default"
    assert settings.data_dir == Path(".data")
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.embedded_temporal_port == 7233
    assert settings.temporal_ui_port == 8233
    assert settings.embedded_mongodb_port == 27018
    assert settings.log_level == "INFO"
    assert settings.webhook_signing_secret is None
    assert settings.secret_keys() is None
    assert settings.channel_rate_limits["webhook"] > 0
    assert settings.webhook_allowed_networks == []


@pytest.mark.parametrize(
    "value",
    [
        "10.20.0.0/16, crm.corp.example  receiver",
        '["10.20.0.0/16", "crm.corp.example", "receiver"]',
    ],
)
def test_webhook_allowed_networks_read_as_a_list_or_json(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", value)
    assert Settings().webhook_allowed_networks == ["10.20.0.0/16", "crm.corp.example", "receiver"]


@pytest.mark.parametrize("entry", ["10.20.0.1/16", "999.1.1.1/32", "bad host!"])
def test_a_malformed_webhook_allowed_network_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", f"10.0.0.0/8,{entry}")
    with pytest.raises(ValidationError, match="webhook_allowed_networks") as caught:
        Settings()
    # Settings errors hide the input (it may hold secrets): the message itself names the entry.
    assert entry.split()[-1] in str(caught.value)


def test_env_names_are_the_documented_ones() -> None:
    assert env_names() == [
        "MONGODB_URI",
        "MONGODB_DATABASE",
        "MONGODB_SERVER_SELECTION_TIMEOUT",
        "MONGODB_CONNECT_TIMEOUT",
        "MONGODB_SOCKET_TIMEOUT",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "DATA_DIR",
        "API_HOST",
        "API_PORT",
        "EMBEDDED_TEMPORAL_PORT",
        "TEMPORAL_UI_PORT",
        "EMBEDDED_MONGODB_PORT",
        "WEBHOOK_SIGNING_SECRET",
        "SECRETS_KEYS",
        "SECRETS_PRIMARY_KEY_ID",
        "WEBHOOK_ALLOWED_NETWORKS",
        "EMAIL_ALLOWED_NETWORKS",
        "EMAIL_SINK",
        "CHANNEL_RATE_LIMITS",
        "WORKER_MAX_CACHED_WORKFLOWS",
        "WORKER_MAX_CONCURRENT_WORKFLOW_TASKS",
        "WORKER_MAX_CONCURRENT_ACTIVITIES",
        "TEMPORAL_UI_URL",
        "WORKFLOW_SANDBOX",
        "LOG_LEVEL",
        "PUBLIC_BASE_URL",
        "WECOM_SIMULATOR",
        "SMS_SIMULATOR",
        "WECHAT_SIMULATOR",
        "WECOM_RESULT_POLL_INTERVAL",
        "API_RATE_LIMIT",
        "API_RATE_LIMIT_BURST",
        "MAX_SUBSCRIPTIONS_PER_CONNECTION",
        "MONGODB_MAX_TIME_MS",
    ]


def test_every_setting_is_described_for_the_readme() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.MULTILINE))
    assert set(env_names()) == documented


def test_each_field_is_read_from_its_upper_case_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://mongo.internal:27017")
    monkeypatch.setenv("MONGODB_DATABASE", "prod")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "omni")
    monkeypatch.setenv("DATA_DIR", "/var/lib/omni")
    monkeypatch.setenv("API_HOST", "10.1.2.3")
    monkeypatch.setenv("API_PORT", "9000")
    monkeypatch.setenv("EMBEDDED_TEMPORAL_PORT", "17233")
    monkeypatch.setenv("TEMPORAL_UI_PORT", "18233")
    monkeypatch.setenv("EMBEDDED_MONGODB_PORT", "37017")
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", "whsec-real")
    monkeypatch.setenv("CHANNEL_RATE_LIMITS", '{"sms": 20, "wecom": 5.5}')
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://omni.example.com/")
    monkeypatch.setenv("WECOM_SIMULATOR", "false")
    monkeypatch.setenv("WECOM_RESULT_POLL_INTERVAL", "12.5")

    settings = Settings()

    assert settings.mongodb_uri is not None
    assert settings.mongodb_uri.get_secret_value() == "mongodb://mongo.internal:27017"
    assert not settings.uses_embedded_mongodb
    assert settings.mongodb_database == "prod"
    assert settings.temporal_address == "temporal.internal:7233"
    assert not settings.uses_embedded_temporal
    assert settings.temporal_namespace == "omni"
    assert settings.data_dir == Path("/var/lib/omni")
    assert (settings.api_host, settings.api_port) == ("10.1.2.3", 9000)
    assert settings.embedded_temporal_port == 17233
    assert settings.temporal_ui_port == 18233
    assert settings.embedded_mongodb_port == 37017
    assert settings.webhook_signing_secret is not None
    assert settings.webhook_signing_secret.get_secret_value() == "whsec-real"
    assert settings.channel_rate_limits == {"sms": 20.0, "wecom": 5.5}
    assert settings.log_level == "DEBUG"
    assert settings.base_url == "https://omni.example.com"
    assert settings.wecom_simulator is False
    assert settings.result_poll_interval(simulated=True) == 12.5


def test_result_polls_are_quick_with_the_simulator_and_gentle_with_wecom() -> None:
    settings = Settings()
    assert settings.wecom_simulator is True
    assert settings.result_poll_interval(simulated=True) == 2.0
    assert settings.result_poll_interval(simulated=False) == 30.0


def test_an_empty_address_means_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "")
    settings = Settings()
    assert settings.uses_embedded_mongodb
    assert settings.uses_embedded_temporal


def test_secrets_never_appear_in_repr_or_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://admin:hunter2@mongo:27017")
    monkeypatch.setenv("WEBHOOK_SIGNING_SECRET", "whsec-topsecret")
    settings = Settings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "hunter2" not in text
        assert "whsec-topsecret" not in text


def test_base_url_defaults_to_the_api_bind_address() -> None:
    assert Settings(api_host="127.0.0.1", api_port=8123).base_url == "http://127.0.0.1:8123"


def test_the_api_is_reached_locally_on_loopback_when_bound_to_every_interface() -> None:
    everywhere = Settings(api_host="0.0.0.0", api_port=8123)  # noqa: S104 - not binding
    assert everywhere.local_base_url == "http://127.0.0.1:8123"
    assert Settings(api_host="10.1.2.3", api_port=80).local_base_url == "http://10.1.2.3:80"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHANNEL_RATE_LIMITS", '{"sms": 0}', "positive"),
        ("CHANNEL_RATE_LIMITS", "not json", "channel_rate_limits"),
        ("LOG_LEVEL", "chatty", "unknown log level"),
        ("API_PORT", "70000", "api_port"),
        ("WECOM_RESULT_POLL_INTERVAL", "0", "wecom_result_poll_interval"),
    ],
)
def test_bad_values_are_rejected_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, ValueError), match=message):
        Settings()


def test_email_allowed_networks_read_like_the_webhook_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMAIL_ALLOWED_NETWORKS", "10.20.0.0/16, relay")
    assert Settings().email_allowed_networks == ["10.20.0.0/16", "relay"]
    monkeypatch.setenv("EMAIL_ALLOWED_NETWORKS", "10.20.0.0/33")
    with pytest.raises(ValidationError, match="email_allowed_networks"):
        Settings()
