"""Runtime settings: one pydantic-settings class, read once by the mains and passed down.

Every field is read from the environment variable of the same name in upper case
(`MONGODB_URI`, `TEMPORAL_ADDRESS`, ...). Unset server addresses mean "start the embedded one".
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from connectors.netguard import DestinationGuard
from store.secretbox import parse_keys

RESULT_POLL_INTERVAL = 30.0
DEMO_RESULT_POLL_INTERVAL = 2.0


class Settings(BaseSettings):
    """Configuration of the api, the worker and the embedded stack."""

    # An empty variable counts as unset, so `MONGODB_URI=` selects the embedded server. Errors
    # hide the input: it holds MONGODB_URI's credentials and the SECRETS_KEYS.
    model_config = SettingsConfigDict(
        case_sensitive=False,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    mongodb_uri: SecretStr | None = Field(
        default=None,
        description="MongoDB connection string (may hold credentials). Unset: start the embedded "
        "SecantusDB server under DATA_DIR.",
    )
    mongodb_database: str = Field(
        default="omnijourney", min_length=1, description="MongoDB database holding all collections."
    )
    mongodb_server_selection_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds an operation waits for a reachable MongoDB server before failing "
        "(the API then answers 503); pymongo's own default is 30.",
    )
    mongodb_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to open a connection to MongoDB."
    )
    mongodb_socket_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds to wait for a MongoDB answer on an open connection (bounds the "
        "slowest query).",
    )
    temporal_address: str | None = Field(
        default=None,
        description="Temporal frontend host:port. Unset: start the embedded Temporal dev server "
        "under DATA_DIR.",
    )
    temporal_namespace: str = Field(
        default="default", min_length=1, description="Temporal namespace for all workflows."
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Directory of the embedded servers' data and logs; survives restarts.",
    )
    api_host: str = Field(default="127.0.0.1", description="Interface the API server binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of the API server.")
    embedded_temporal_port: int = Field(
        default=7233, ge=1, le=65535, description="gRPC port of the embedded Temporal dev server."
    )
    temporal_ui_port: int = Field(
        default=8233, ge=1, le=65535, description="Web UI port of the embedded Temporal dev server."
    )
    embedded_mongodb_port: int = Field(
        default=27018, ge=1, le=65535, description="Port of the embedded SecantusDB server."
    )
    webhook_signing_secret: SecretStr | None = Field(
        default=None,
        description="Deprecated: webhooks are signed with per-tenant secrets "
        "(`rotateWebhookSecret`). When set, a tenant without a secret of its own starts with "
        "this one (so existing receivers keep verifying) until an admin rotates it.",
    )
    secrets_keys: SecretStr | None = Field(
        default=None,
        description="Keys sealing stored secrets (AES-256-GCM), a JSON object of key id -> "
        'base64 32-byte key, e.g. {"2027-01": "..."}. Unset: with the embedded MongoDB a '
        "dev-only key file under DATA_DIR; required when MONGODB_URI is set.",
    )
    secrets_primary_key_id: str | None = Field(
        default=None,
        min_length=1,
        description="The key id of SECRETS_KEYS that new secrets are sealed under (and that "
        "start-up re-seals older ones to); may be unset when SECRETS_KEYS holds one key.",
    )
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Webhook destinations allowed although not public, for on-premise receivers: "
        "comma-separated (or a JSON list). A CIDR network (`10.20.0.0/16`, `fd12::/64`) allows "
        "every address inside it, whatever host name resolves there; a host name "
        "(`crm.corp.example`, `receiver`) allows exactly that host (no wildcards, not its "
        "subdomains) whatever it resolves to. Empty: public addresses only.",
    )
    email_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="SMTP servers tenants may configure although not public (an internal "
        "relay): the same syntax as WEBHOOK_ALLOWED_NETWORKS (CIDR networks or exact host "
        "names, comma-separated or a JSON list). Empty: public addresses only. `omnijourney run` "
        "adds 127.0.0.1/32 for its local SMTP sink.",
    )
    email_sink: bool = Field(
        default=True,
        description="`omnijourney run` only: start a local SMTP sink (aiosmtpd) on 127.0.0.1 and "
        "point the demo tenant's e-mail settings at it, so `email` actions deliver without a "
        "real server (received messages are logged). `api` and `worker` never start it.",
    )
    channel_rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"webhook": 50.0, "sandbox": 200.0, "email": 20.0},
        description="Per-channel activity rate limit (activities/s) as JSON, e.g. "
        '{"webhook": 50, "sms": 20}; enforced on each `channel.<name>` task queue.',
    )
    worker_max_cached_workflows: int = Field(
        default=500,
        ge=0,
        description="Workflows one worker process keeps in its sticky cache between tasks (least "
        "recently used go first; a workflow pushed out is replayed from its history on its next "
        "task). Bounds the worker's memory (about 0.25 MB per cached journey workflow): "
        "sleeping enrollments beyond it cost no memory. Temporal's own default is 1000.",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        default=100,
        ge=2,
        description="Workflow tasks one worker process runs at once (Temporal's slots; at least "
        "2, one for the sticky and one for the normal queue).",
    )
    worker_max_concurrent_activities: int = Field(
        default=100,
        ge=1,
        description="Activities each worker of a process (journeys, every channel queue) runs at "
        "once; channel rate limits still hold across processes.",
    )
    temporal_ui_url: str | None = Field(
        default=None,
        description="Base URL of the Temporal Web UI, for the links GraphQL gives "
        "(`Enrollment.temporalUiUrl`). Unset: the embedded UI when the embedded server runs, "
        "else no links.",
    )
    workflow_sandbox: Literal["strict", "passthrough"] = Field(
        default="passthrough",
        description="How the worker sandboxes workflow code: `passthrough` passes every import "
        "through (a third less worker CPU per step); `strict` reloads and proxies the standard "
        "library for each run, refusing a non-deterministic call at run time (the tests' mode). "
        "See `runtime.worker`.",
    )
    log_level: str = Field(default="INFO", description="Python log level (DEBUG, INFO, ...).")
    public_base_url: str | None = Field(
        default=None,
        description="Externally reachable base URL of the API (for links and callback URLs, "
        "and the e-mail unsubscribe links the worker writes); unset: http://API_HOST:API_PORT.",
    )

    wecom_simulator: bool = Field(
        default=True,
        description="`omnijourney run` only: start an in-process WeCom simulator and connect the "
        "demo tenant to it (its channel code `douyin-ad-spring` and group live code are made "
        "there), so the demo runs without a real corp. `api` and `worker` never start it.",
    )
    sms_simulator: Literal["aliyun", "tencent", "off"] = Field(
        default="aliyun",
        description="`omnijourney run` only: serve an in-process SMS simulator speaking this "
        "provider's protocol (`aliyun` or `tencent`), connect the demo tenant's `sms` channel "
        "to it and have it push a delivery report for each message; `off`: none. `api` and "
        "`worker` never start it.",
    )
    wechat_simulator: bool = Field(
        default=True,
        description="`omnijourney run` only: start an in-process WeChat Official Account and "
        "mini-program simulator and connect the demo tenant to them (the `oa` and `miniprogram` "
        "channels). `api` and `worker` never start them.",
    )
    wecom_result_poll_interval: float | None = Field(
        default=None,
        gt=0,
        description="Seconds between the worker's polls of WeCom for mass-message task results. "
        "Unset: 2 with the in-process simulator (the demo), else 30.",
    )
    api_rate_limit: float = Field(
        default=20.0,
        ge=0,
        description="Requests per second each API key may make to /graphql (HTTP) and "
        "/v1/events, refilling a token bucket of API_RATE_LIMIT_BURST; over it, HTTP 429 with "
        "Retry-After. Kept per API process: N replicas allow N times this. 0 turns it off.",
    )
    api_rate_limit_burst: int = Field(
        default=40,
        ge=1,
        description="How many requests an API key may make at once before API_RATE_LIMIT "
        "paces it (the token bucket's size).",
    )
    max_subscriptions_per_connection: int = Field(
        default=20,
        ge=1,
        description="Operations one websocket may run at once; a `subscribe` over it gets an "
        "`error` message (the connection stays open).",
    )
    mongodb_max_time_ms: int = Field(
        default=15_000,
        ge=1,
        description="Milliseconds MongoDB may spend on one read a client asks for (metrics, "
        "timeline, customer search, connection totals, per-node counts, dataloader pages; "
        "maxTimeMS) before it is stopped and the query answers QUERY_TIMEOUT.",
    )

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("webhook_allowed_networks", "email_allowed_networks", mode="before")
    @classmethod
    def _split_allowed_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [entry for entry in text.replace(",", " ").split() if entry]
        return value

    @field_validator("webhook_allowed_networks", "email_allowed_networks")
    @classmethod
    def _valid_allowed_networks(cls, value: list[str]) -> list[str]:
        DestinationGuard(value)  # raises ValueError naming a malformed entry
        return value

    @field_validator("channel_rate_limits")
    @classmethod
    def _positive_rates(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {channel: rate for channel, rate in value.items() if rate <= 0}
        if bad:
            raise ValueError(f"channel rate limits must be positive activities/s, got {bad}")
        return value

    @model_validator(mode="after")
    def _usable_secrets_keys(self) -> Settings:
        if self.secrets_keys is None:
            if self.secrets_primary_key_id is not None:
                raise ValueError("SECRETS_PRIMARY_KEY_ID is set but SECRETS_KEYS is not")
            return self
        try:
            keys = parse_keys(self.secrets_keys.get_secret_value())
        except ValueError as exc:
            # `from None`: the error chain would show the variable's value.
            raise ValueError(f"SECRETS_KEYS {exc}") from None
        primary = self.secrets_primary_key_id
        if primary is None and len(keys) > 1:
            raise ValueError("SECRETS_PRIMARY_KEY_ID must name one of several SECRETS_KEYS")
        if primary is not None and primary not in keys:
            raise ValueError(f"SECRETS_PRIMARY_KEY_ID {primary!r} is not a key of SECRETS_KEYS")
        return self

    def secret_keys(self) -> tuple[dict[str, bytes], str] | None:
        """SECRETS_KEYS as key id -> key, and the primary key id; None when unset."""
        if self.secrets_keys is None:
            return None
        keys = parse_keys(self.secrets_keys.get_secret_value())
        return keys, self.secrets_primary_key_id or next(iter(keys))

    @property
    def uses_embedded_mongodb(self) -> bool:
        """Whether no MongoDB address is configured, so the embedded server is needed."""
        return self.mongodb_uri is None

    @property
    def uses_embedded_temporal(self) -> bool:
        """Whether no Temporal address is configured, so the embedded dev server is needed."""
        return self.temporal_address is None

    def result_poll_interval(self, *, simulated: bool) -> float:
        """WECOM_RESULT_POLL_INTERVAL, or its default for a process with or without the simulator."""
        if self.wecom_result_poll_interval is not None:
            return self.wecom_result_poll_interval
        return DEMO_RESULT_POLL_INTERVAL if simulated else RESULT_POLL_INTERVAL

    @property
    def local_base_url(self) -> str:
        """Where this machine reaches the API it serves (a wildcard bind on loopback)."""
        host = self.api_host
        if host in ("", "0.0.0.0", "::"):  # noqa: S104 - reading the bind address, not binding
            host = "127.0.0.1"
        return f"http://{host}:{self.api_port}"

    @property
    def base_url(self) -> str:
        """PUBLIC_BASE_URL, or the API's own bind address when unset."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.api_host}:{self.api_port}"


def mongo_client_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of `AsyncMongoClient` the settings fix: timezone-aware datetimes and
    the timeouts (milliseconds)."""
    return {
        "tz_aware": True,
        "serverSelectionTimeoutMS": round(settings.mongodb_server_selection_timeout * 1000),
        "connectTimeoutMS": round(settings.mongodb_connect_timeout * 1000),
        "socketTimeoutMS": round(settings.mongodb_socket_timeout * 1000),
    }


def env_names() -> list[str]:
    """The environment variable names Settings reads, in declaration order."""
    return [name.upper() for name in Settings.model_fields]
