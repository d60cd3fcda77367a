"""The registry of node kinds: what every part of the project needs to know of each kind.

The node models themselves are in `domain.journey` (the `Node` union). Here each kind gets one
`NodeKind` entry, and every consumer reads it instead of keeping its own list:

| consumer                                       | reads                                      |
|------------------------------------------------|--------------------------------------------|
| validation (`domain.validation`)               | outgoing labels, `pauses` (loop check)     |
| the engine (`domain.engine.interpreter`)       | the edge labels it follows (`NEXT`, ...)   |
| the diagram (`domain.diagram`)                 | `shape`, `detail`                          |
| GraphQL (`api.graphql.journeys.node_inputs`)   | the kinds' input and field descriptions    |
| the docs (`docs/architecture.md`)              | `markdown_table()`                         |

What a kind *does* is code, not data: the engine (`_Advance.process`) and validation
(`domain.validation.nodes.check_node`) have one `case` per kind and end in `assert_never`, so
mypy names a kind either misses. tests/unit/test_node_kinds.py fails when a kind lacks its GraphQL input, its row
in the docs, or an example. How to add a kind: docs/architecture.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from domain.journey import (
    ActionNode,
    BranchNode,
    EntryNode,
    ExitNode,
    GoalNode,
    Node,
    SplitNode,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilDateNode,
)

# Edge labels with a fixed meaning (a branch adds one per rule id).
NEXT = "next"
FAILED = "failed"
MATCHED = "matched"
TIMED_OUT = "timed_out"
ELSE = "else"
MISSING = "missing"
PASSED = "passed"

N = TypeVar("N", bound=BaseModel)


def _never(_: Any) -> bool:
    return False


def _nothing(_: Any) -> str | None:
    return None


def _no_labels(_: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class NodeKind(Generic[N]):
    """One node kind: its model and the facts about it that more than one part reads."""

    model: type[N]
    shape: tuple[str, str]
    """Opening and closing brackets of its Mermaid shape (distinct per kind)."""
    required: tuple[str, ...] = ()
    """Outgoing labels that must have an edge."""
    optional: tuple[str, ...] = ()
    """Outgoing labels that may have one."""
    rule_labels: Callable[[N], list[str]] = _no_labels
    """Labels the node names itself (a branch's rule ids), required ahead of `required`."""
    pauses: Callable[[N], bool] = _never
    """Whether passing the node takes time, so a loop through it cannot spin."""
    detail: Callable[[N], str | None] = _nothing
    """The line the diagram shows under the node's name."""

    @property
    def kind(self) -> str:
        """The `kind` discriminator of the model."""
        value = self.model.model_fields["kind"].default
        assert isinstance(value, str)
        return value

    @property
    def summary(self) -> str:
        """What the node does: its model's docstring."""
        return inspect.cleandoc(self.model.__doc__ or "")

    def labels(self, node: N) -> tuple[list[str], set[str]]:
        """(labels that must have an edge, labels that may have one) for `node`."""
        required = [*dict.fromkeys(self.rule_labels(node)), *self.required]
        return required, {*required, *self.optional}

    def outgoing(self) -> str:
        """The outgoing labels in words, e.g. "`next`, optionally `failed`"."""
        parts = [f"`{label}`" for label in self.required]
        if self.rule_labels is not _no_labels:
            parts.insert(0, "one per rule id")
        if self.optional:
            parts.append("optionally " + ", ".join(f"`{label}`" for label in self.optional))
        return ", ".join(parts) or "none"


def _wait_pauses(node: WaitNode) -> bool:
    return node.duration > timedelta(0) or node.until is not None


def _date_detail(node: WaitUntilDateNode) -> str | None:
    offset = ""
    if node.offset:
        sign = "-" if node.offset < timedelta(0) else "+"
        offset = f" {sign}{abs(node.offset)}"
    return f"{'yearly ' if node.yearly else ''}{node.attribute}{offset}"


def _variant_ids(node: SplitNode) -> list[str]:
    return [variant.id for variant in node.variants]


def _split_detail(node: SplitNode) -> str | None:
    shares = " / ".join(
        f"{variant.id} {variant.weight}{' holdout' if variant.holdout else ''}"
        for variant in node.variants
    )
    return shares + (" · auto winner" if node.winner is not None else "")


def _rule_ids(node: BranchNode) -> list[str]:
    return [rule.id for rule in node.rules]


def _action_detail(node: ActionNode) -> str | None:
    return f"{node.channel}.{node.action}"


def _event_type(node: WaitForEventNode | GoalNode) -> str | None:
    return node.event_type


def _reason(node: ExitNode) -> str | None:
    return node.reason


_ENTRIES: tuple[NodeKind[Any], ...] = (
    NodeKind(EntryNode, shape=("([", "])"), required=(NEXT,)),
    NodeKind(WaitNode, shape=("[/", "/]"), required=(NEXT,), pauses=_wait_pauses),
    NodeKind(
        WaitForEventNode,
        shape=("{{", "}}"),
        required=(MATCHED, TIMED_OUT),
        pauses=lambda _: True,
        detail=_event_type,
    ),
    NodeKind(
        WaitUntilDateNode,
        shape=("[\\", "\\]"),
        required=(NEXT, MISSING),
        optional=(PASSED,),
        pauses=lambda _: True,
        detail=_date_detail,
    ),
    NodeKind(BranchNode, shape=("{", "}"), required=(ELSE,), rule_labels=_rule_ids),
    NodeKind(SplitNode, shape=(">", "]"), rule_labels=_variant_ids, detail=_split_detail),
    NodeKind(
        ActionNode, shape=("[", "]"), required=(NEXT,), optional=(FAILED,), detail=_action_detail
    ),
    NodeKind(UpdateProfileNode, shape=("[/", "\\]"), required=(NEXT,)),
    NodeKind(GoalNode, shape=("[[", "]]"), optional=(NEXT,), detail=_event_type),
    NodeKind(ExitNode, shape=("((", "))"), detail=_reason),
)

REGISTRY: Mapping[str, NodeKind[Any]] = {entry.kind: entry for entry in _ENTRIES}
"""Every node kind by its `kind`, in the order of the `Node` union."""


def kind_of(node: Node) -> NodeKind[Any]:
    """The registry entry of `node`'s kind."""
    return REGISTRY[node.kind]


def markdown_table() -> str:
    """The table of node kinds that docs/architecture.md shows (a test keeps the two equal)."""
    rows = [
        "| kind | model | outgoing labels | what it does |",
        "|---|---|---|---|",
    ]
    for entry in REGISTRY.values():
        summary = " ".join(entry.summary.split())
        rows.append(
            f"| `{entry.kind}` | `{entry.model.__name__}` | {entry.outgoing()} | {summary} |"
        )
    return "\n".join(rows) + "\n"
