"""Every part of the GraphQL schema is described, so a client can be built from the schema alone."""

from __future__ import annotations

from enum import Enum

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)

from api.graphql.common import described_values
from api.graphql.schema import schema

BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def _undescribed_in(name: str, named: GraphQLNamedType) -> list[str]:
    missing: list[str] = []
    if not (named.description or "").strip():
        kind = "union" if isinstance(named, GraphQLUnionType) else "type"
        missing.append(f"{kind} {name}")
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            if not (field.description or "").strip():
                missing.append(f"field {name}.{field_name}")
            for arg_name, arg in field.args.items():
                if not (arg.description or "").strip():
                    missing.append(f"argument {name}.{field_name}({arg_name})")
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            if not (input_field.description or "").strip():
                missing.append(f"input field {name}.{field_name}")
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            if not (value.description or "").strip():
                missing.append(f"enum value {name}.{value_name}")
    return missing


def undescribed(graphql_schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, enum value and union of the schema that has no description."""
    missing: list[str] = []
    for name, named in sorted(graphql_schema.type_map.items()):
        if name.startswith("__"):
            continue
        if isinstance(named, GraphQLScalarType) and name in BUILT_IN_SCALARS:
            continue
        missing.extend(_undescribed_in(name, named))
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing = undescribed(schema._schema)
    assert not missing, f"{len(missing)} schema items lack a description:\n" + "\n".join(missing)


def test_an_undescribed_field_is_reported() -> None:
    bare = build_schema(
        '"""Reads."""\ntype Query {\n  "The answer."\n  a: Int\n  b(x: Int): Int\n}'
    )
    assert undescribed(bare) == ["field Query.b", "argument Query.b(x)"]


def test_described_values_refuses_to_leave_an_enum_value_undescribed() -> None:
    @strawberry.enum(description="Two colours.")
    class Colour(Enum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(ValueError, match="BLUE"):
        described_values(RED="Warm.")(Colour)
