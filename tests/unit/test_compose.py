"""docker-compose.yml and the Dockerfile stay consistent with the code (no Docker engine here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.settings import env_names
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("api", "worker")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(compose["services"])


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _one_shot(services: dict[str, dict[str, Any]]) -> set[str]:
    """Services others wait on to *complete*: set-up jobs, which exit instead of staying healthy."""
    return {
        name
        for service in services.values()
        for name, dependency in (service.get("depends_on") or {}).items()
        if dependency.get("condition") == "service_completed_successfully"
    }


def test_compose_declares_the_production_services(services: dict[str, dict[str, Any]]) -> None:
    expected = {"postgresql", "temporal", "temporal-ui", "mongodb", "api", "worker"}
    assert expected <= services.keys()
    assert services["mongodb"]["image"].startswith("mongo:8")
    assert services["temporal"]["environment"]["DB"] == "postgres12"


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    one_shot = _one_shot(services)
    assert one_shot, "the schema and search-attribute set-up jobs are expected"
    for name, service in services.items():
        if name not in one_shot:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_the_api_healthcheck_probes_readiness(services: dict[str, dict[str, Any]]) -> None:
    probe = " ".join(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in probe


def test_api_and_worker_are_one_image_running_the_two_commands(
    services: dict[str, dict[str, Any]],
) -> None:
    api, worker = services["api"], services["worker"]
    assert api["build"] == worker["build"] == "."
    assert api["image"] == worker["image"]
    assert api["command"] == ["omnijourney", "api"]
    assert worker["command"] == ["omnijourney", "worker"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_names_are_all_settings_fields(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    environment = services[service]["environment"]
    assert isinstance(environment, dict)
    unknown = set(environment) - set(env_names())
    assert not unknown, f"{service} sets variables Settings does not read: {sorted(unknown)}"
    # Without these the app would start embedded servers inside the container (or, without
    # SECRETS_KEYS, refuse to start).
    assert {"MONGODB_URI", "TEMPORAL_ADDRESS", "SECRETS_KEYS"} <= set(environment)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_waits_for_healthy_temporal_and_mongodb_and_the_set_up_jobs(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    depends_on = services[service]["depends_on"]
    assert depends_on["temporal"]["condition"] == "service_healthy"
    assert depends_on["mongodb"]["condition"] == "service_healthy"
    completed = {
        name
        for name, dependency in depends_on.items()
        if dependency["condition"] == "service_completed_successfully"
    }
    assert completed, f"{service} must wait for the search attributes to be registered"


def test_every_search_attribute_is_registered_by_a_set_up_job(
    services: dict[str, dict[str, Any]],
) -> None:
    set_up_scripts = " ".join(
        " ".join(services[name].get("command") or []) for name in _one_shot(services)
    )
    for key in SEARCH_ATTRIBUTES:
        assert re.search(rf"\b{key.name}\b", set_up_scripts), f"{key.name} is never registered"
    assert "search-attribute create" in set_up_scripts


def test_dockerfile_installs_from_the_lock_without_dev_or_embedded_extras(dockerfile: str) -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert "COPY pyproject.toml uv.lock" in dockerfile
    syncs = re.findall(r"uv sync[^\n]*", dockerfile)
    assert syncs
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync
        assert "--all-extras" not in sync
        assert "--extra" not in sync


def test_dockerfile_pins_the_same_uv_as_the_makefile(dockerfile: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    make_version = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, re.MULTILINE)
    docker_version = re.search(r"^ARG UV_VERSION=(\S+)", dockerfile, re.MULTILINE)
    assert make_version and docker_version
    assert docker_version.group(1) == make_version.group(1)
    assert '"uv==${UV_VERSION}"' in dockerfile


def test_dockerfile_runs_as_a_non_root_user(dockerfile: str) -> None:
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}


def test_dockerfile_copies_every_package_the_wheel_ships(dockerfile: str) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for package in packages:
        assert re.search(rf"^COPY {package} ", dockerfile, re.MULTILINE), f"{package} not copied"


# Services without authentication of their own (or whose data must stay private): never published
# on every interface of the host. The API authenticates every request and is the public door.
PRIVATE_SERVICES = ("temporal-ui", "temporal", "mongodb", "postgresql")
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}


def _published_host_ips(ports: list[Any]) -> list[str]:
    """The host interface of each published port ("" for all of them), short or long syntax."""
    ips: list[str] = []
    for port in ports:
        if isinstance(port, dict):
            if port.get("published") is not None:
                ips.append(str(port.get("host_ip", "")))
            continue
        spec = str(port).rsplit("/", 1)[0]  # drop a /tcp or /udp
        if spec.startswith("["):  # [::1]:8080:8080
            ips.append(spec[: spec.index("]") + 1])
            continue
        parts = spec.split(":")
        if len(parts) == 1:
            ips.append("")  # a container port alone: published on a random host port, everywhere
        elif len(parts) == 2:
            ips.append("")  # HOST:CONTAINER binds 0.0.0.0
        else:
            ips.append(":".join(parts[:-2]))
    return ips


def test_published_host_ips_reads_short_and_long_syntax() -> None:
    assert _published_host_ips(["8080:8080", "127.0.0.1:8233:8080", "[::1]:1:2", "9000/tcp"]) == [
        "",
        "127.0.0.1",
        "[::1]",
        "",
    ]
    assert _published_host_ips([{"target": 80, "published": 8080}]) == [""]
    assert _published_host_ips([{"target": 80, "published": 8080, "host_ip": "127.0.0.1"}]) == [
        "127.0.0.1"
    ]


@pytest.mark.parametrize("service", PRIVATE_SERVICES)
def test_private_services_publish_no_port_beyond_loopback(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    ips = _published_host_ips(services[service].get("ports") or [])
    public = [ip or "0.0.0.0" for ip in ips if ip not in LOOPBACK]  # noqa: S104 - reading, not binding
    assert not public, f"{service} publishes a port on {public}: bind it to 127.0.0.1 or drop it"


def test_the_temporal_ui_does_not_run_unless_asked_for(services: dict[str, dict[str, Any]]) -> None:
    # It has no login of its own: `docker compose up` must not start it (an opt-in profile).
    assert services["temporal-ui"].get("profiles"), "temporal-ui must sit in an opt-in profile"


def _default(value: Any) -> str:
    """The default of a `${NAME:-default}` interpolation (the value itself when it is none)."""
    match = re.fullmatch(r"\$\{[A-Z0-9_]+:-([^}]*)\}", str(value))
    return match.group(1) if match else str(value)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_api_and_worker_declare_several_replicas(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    replicas = services[service].get("deploy", {}).get("replicas")
    assert replicas is not None, f"{service} declares no deploy.replicas"
    assert int(_default(replicas)) >= 2, f"{service} runs one replica by default"


def test_every_api_replica_gets_a_published_port(services: dict[str, dict[str, Any]]) -> None:
    # A fixed host port can be bound by one replica only: the second would fail to start.
    replicas = int(_default(services["api"]["deploy"]["replicas"]))
    (port,) = services["api"]["ports"]
    host, container = str(port).rsplit(":", 1)
    first, _, last = _default(host).partition("-")
    assert container == "8000"
    assert last, "the api publishes one fixed host port: a second replica could not bind it"
    assert int(last) - int(first) + 1 >= replicas
