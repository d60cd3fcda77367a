"""The import rules of ARCHITECTURE.md, enforced: dependencies point inward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {
    "domain",
    "simulator",
    "store",
    "connectors",
    "activities",
    "workflows",
    "ingestion",
    "api",
    "runtime",
}
THIRD_PARTY_BANNED_IN_DOMAIN = {"temporalio", "pymongo", "strawberry", "httpx", "starlette", "bson"}

ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "simulator": {"domain", "simulator"},
    "store": {"domain", "store"},
    "connectors": {"domain", "connectors"},
    "activities": {"domain", "store", "connectors", "activities"},
    "workflows": {"domain", "workflows", "activities"},
    "ingestion": {"domain", "store", "workflows", "ingestion"},
    "api": {"domain", "simulator", "store", "workflows", "ingestion", "api"},
    "runtime": OURS,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_it_may(package: str) -> None:
    offenders = []
    for module in _modules(package):
        for name in _imports(module) & OURS:
            if name not in ALLOWED[package]:
                offenders.append(f"{module.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_domain_and_simulator_import_no_infrastructure() -> None:
    offenders = [
        f"{module.relative_to(ROOT)} imports {name}"
        for package in ("domain", "simulator")
        for module in _modules(package)
        for name in _imports(module) & THIRD_PARTY_BANNED_IN_DOMAIN
    ]
    assert offenders == []


def test_no_project_module_imports_the_gpl_mongodb_server() -> None:
    offenders = [
        str(module.relative_to(ROOT))
        for package in OURS
        for module in _modules(package)
        if "secantus" in _imports(module)
    ]
    assert offenders == []
