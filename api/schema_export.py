"""The GraphQL schema as SDL: what `make schema` writes to `schema.graphql`."""

from __future__ import annotations

from strawberry.printer import print_schema

from api.graphql.schema import schema


def export_schema() -> str:
    """The SDL of the API's schema, ending with a newline."""
    return print_schema(schema).rstrip("\n") + "\n"
