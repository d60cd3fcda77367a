"""`schema.graphql` is generated from the code; this fails when it is out of date."""

from __future__ import annotations

from pathlib import Path

from api.schema_export import export_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert committed.strip() == export_schema().strip(), (
        "schema.graphql differs from the GraphQL schema in api/; run `make schema` and commit it"
    )
