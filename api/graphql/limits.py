"""What one GraphQL document may ask for, checked before anything executes.

| limit                | value | over it: `extensions.code` |
|----------------------|-------|----------------------------|
| tokens (comments too)| 5000  | `QUERY_TOO_LARGE`          |
| field depth          | 12    | `QUERY_TOO_DEEP`           |
| introspection depth  | graphql-core's rule (3 nested type lists) | `QUERY_TOO_DEEP` |
| aliases              | 30    | `TOO_MANY_ALIASES`         |
| complexity (cost)    | 10000 | `QUERY_TOO_COMPLEX`        |

Cost (priced on the document as sent, so a document that is also invalid may get both kinds of
error): every field costs 1 plus its selection's cost, and a paginated field (one taking `first`,
`last` or `limit`) multiplies its selection's cost by the page size it asks for (literal or
variable, clamped to the server's page cap; the default page size when not given). `__typename`
is free. So `customers(first: 100) { nodes { id tags } }` costs 1 + 100 x (1 + 2) = 301.

A few fields do costly work per parent item and cost more than 1 (`FIELD_COSTS`):
`Enrollment.history` fetches a whole workflow history from Temporal, so it costs
`HISTORY_COST` (1000): one enrollment's history is fine, nine in one request are the most, and
`enrollments(first: 100) { nodes { history { ... } } }` (100 Temporal fetches) is refused.

Batched requests (a JSON list of operations) are not accepted at all, so there is no batch
size to limit. Violations are request errors: no data, HTTP 400 under
`application/graphql-response+json`, 200 under `application/json`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.validation import MaxIntrospectionDepthRule
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionContext

from api.graphql.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_TOKENS: Final = 5000
MAX_QUERY_DEPTH: Final = 12
MAX_ALIASES: Final = 30
MAX_COMPLEXITY: Final = 10_000
PAGE_SIZE_ARGUMENTS: Final = ("first", "last", "limit")
HISTORY_COST: Final = 1000
FIELD_COSTS: Final[Mapping[tuple[str, str], int]] = {("Enrollment", "history"): HISTORY_COST}
"""`(type, field)` -> the field's own cost where it is more than 1 (work outside MongoDB)."""

QUERY_TOO_LARGE: Final = "QUERY_TOO_LARGE"
QUERY_TOO_DEEP: Final = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES: Final = "TOO_MANY_ALIASES"
QUERY_TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"

# graphql-core's fixed wording when the parser stops at `max_tokens`.
_PARSER_LIMIT_WORDING = "Document contains more than"


def coded(error: GraphQLError, code: str, **extensions: Any) -> GraphQLError:
    """`error` with `extensions.code` set (and any further extensions)."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code, **extensions},
    )


class _CodingContext:
    """A validation context whose reported errors carry `code`; all else is delegated."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(coded(error, self._code))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def with_code(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """A validation rule reporting what `rule` reports, with `extensions.code` = `code`."""

    class Coded(rule):  # type: ignore[misc,valid-type]  # a subclass of a rule given at run time
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_CodingContext(context, code))

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


class DepthLimit(QueryDepthLimiter):
    """Field depth at most MAX_QUERY_DEPTH; introspection nesting bounded by graphql-core's rule.

    Introspection fields are exempt from the depth count, so graphql-core's introspection rule
    (one of the specified rules) does that part; it is swapped for a coded copy of itself.
    """

    def __init__(self) -> None:
        super().__init__(max_depth=MAX_QUERY_DEPTH)
        self.validation_rules = [
            with_code(rule, QUERY_TOO_DEEP)
            for rule in (*self.validation_rules, MaxIntrospectionDepthRule)
        ]

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = tuple(
            rule for rule in context.validation_rules if rule is not MaxIntrospectionDepthRule
        )
        yield from super().on_operation()


class AliasLimit(MaxAliasesLimiter):
    """At most MAX_ALIASES aliases in a document (fragments included)."""

    def __init__(self) -> None:
        super().__init__(max_alias_count=MAX_ALIASES)
        self.validation_rules = [
            with_code(rule, TOO_MANY_ALIASES) for rule in self.validation_rules
        ]


class TokenLimit(MaxTokensLimiter):
    """The parser gives up after MAX_TOKENS tokens (comments count), before any work is done."""

    def __init__(self) -> None:
        super().__init__(max_token_count=MAX_TOKENS)

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        # Strawberry catches parse errors inside its parsing phase, so they are recoded here.
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [_token_limit_error(error) for error in errors]


def _token_limit_error(error: GraphQLError) -> GraphQLError:
    if not isinstance(error, GraphQLSyntaxError) or _PARSER_LIMIT_WORDING not in error.message:
        return error
    return GraphQLError(
        f"the document has more than {MAX_TOKENS} tokens",
        source=error.source,
        positions=error.positions,
        extensions={"code": QUERY_TOO_LARGE, "maxTokens": MAX_TOKENS},
    )


class ComplexityLimit(SchemaExtension):
    """Refuse an operation whose cost (see the module docstring) exceeds MAX_COMPLEXITY.

    A validation rule made per request, so `first: $n` is priced with the request's variables.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, _complexity_rule(context))
        yield


def _complexity_rule(execution: ExecutionContext) -> type[ASTValidationRule]:
    class ComplexityRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            cost = operation_cost(
                self.context.schema, node, execution.operation_name, execution.variables
            )
            if cost > MAX_COMPLEXITY:
                message = (
                    f"the operation costs {cost}, more than the {MAX_COMPLEXITY} allowed; "
                    "ask for smaller pages or fewer nested lists"
                )
                extensions = {"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": MAX_COMPLEXITY}
                self.report_error(GraphQLError(message, extensions=extensions))

    return ComplexityRule


LIMITS: Final[list[type[SchemaExtension]]] = [TokenLimit, DepthLimit, AliasLimit, ComplexityLimit]
"""The schema extensions enforcing every limit, in the order they apply."""


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation `operation_name` of a valid `document` (0 when there is none)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    pricing = _Pricing(schema, fragments, _variables_with_defaults(operation, variables or {}))
    return pricing.selection_cost(root, operation.selection_set)


def _variables_with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> dict[str, Any]:
    values = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    values.update(variables)
    return values


class _Pricing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        # A fragment's cost depends on nothing but the fragment, so each is priced once: without
        # this, fragments spreading fragments twice over would take exponential time to price.
        self._fragment_costs: dict[str, int] = {}

    def selection_cost(self, parent: GraphQLNamedType, selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = parent if condition is None else self._schema.get_type(condition.name.value)
                total += self.selection_cost(on or parent, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value)
        return total

    def _fragment_cost(self, name: str) -> int:
        if name in self._fragment_costs:
            return self._fragment_costs[name]
        fragment = self._fragments.get(name)
        self._fragment_costs[name] = 0  # a cycle (invalid anyway) must not recurse forever
        if fragment is None:
            return 0
        on = self._schema.get_type(fragment.type_condition.name.value)
        cost = 0 if on is None else self.selection_cost(on, fragment.selection_set)
        self._fragment_costs[name] = cost
        return cost

    def _field_cost(self, parent: GraphQLNamedType, node: FieldNode) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        own = FIELD_COSTS.get((parent.name, name), 1)
        field = self._field(parent, name)
        if field is None or node.selection_set is None:
            return own
        children = self.selection_cost(get_named_type(field.type), node.selection_set)
        return own + self._page_size(field, node) * children

    def _field(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def _page_size(self, field: GraphQLField, node: FieldNode) -> int:
        names = [name for name in PAGE_SIZE_ARGUMENTS if name in field.args]
        if not names:
            return 1
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in names:
            value = given.get(name)
            size: Any = None
            if isinstance(value, IntValueNode):
                size = int(value.value)
            elif isinstance(value, VariableNode):
                size = self._variables.get(value.name.value)
            elif value is None:
                size = field.args[name].default_value
            if isinstance(size, int) and not isinstance(size, bool):
                return max(1, min(size, MAX_PAGE_SIZE))
        return DEFAULT_PAGE_SIZE
