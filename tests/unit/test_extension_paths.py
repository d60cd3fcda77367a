"""The "how to add" paths of docs/architecture.md stay true: the files they name exist, and what
they say is the one place to write something is read from there.

The node kind path is checked by tests/unit/test_node_kinds.py (a kind missing from any consumer
fails it) and the channel path by tests/workflows/test_adding_a_channel.py (a connector defined
in the test and registered, nothing else, is validated, listed and run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema

from api.graphql.schema import schema
from domain.metrics import definitions

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
_PATH = re.compile(r"`([A-Za-z_][\w./-]*/[\w./-]*)`")


def how_to_sections() -> dict[str, str]:
    """Heading → text of every "How to add ..." section."""
    sections: dict[str, str] = {}
    heading = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            heading = title if title.lower().startswith("how to add") else None
            if heading is not None:
                sections[heading] = ""
        elif heading is not None:
            sections[heading] += line + "\n"
    return sections


def test_the_doc_has_the_three_how_to_add_paths_and_more() -> None:
    headings = set(how_to_sections())

    assert {"How to add a node kind", "How to add a channel", "How to add a metric"} <= headings


@pytest.mark.parametrize("heading", sorted(how_to_sections()))
def test_each_how_to_add_path_names_only_files_that_exist(heading: str) -> None:
    named = [
        path
        for path in _PATH.findall(how_to_sections()[heading])
        if "<" not in path and not path.startswith(("http", "channel."))
    ]

    missing = [path for path in named if not (ROOT / path.rstrip("/")).exists()]
    assert named, f"{heading}: names no file"
    assert missing == [], f"{heading} names files that do not exist: {missing}"


def _schema_texts(graphql_schema: GraphQLSchema) -> list[str]:
    texts = []
    for named in graphql_schema.type_map.values():
        texts.append(named.description or "")
        for field in (getattr(named, "fields", None) or {}).values():
            texts.append(field.description or "")
            texts += [
                arg.description or "" for arg in (getattr(field, "args", None) or {}).values()
            ]
    return texts


def test_every_metric_definition_reaches_the_schema() -> None:
    """A definition written in domain/metrics/definitions.py and not read by a GraphQL
    description is a metric half added (step 3 of "How to add a metric" missed)."""
    texts = _schema_texts(schema._schema)
    defined = {
        name: value
        for name, value in vars(definitions).items()
        if isinstance(value, definitions.Definition)
    }

    orphans = [
        name
        for name, item in defined.items()
        if not any(item.description in text or item.formula in text for text in texts)
    ]
    assert len(defined) > 20
    assert orphans == []
