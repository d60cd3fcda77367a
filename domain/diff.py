"""A structural diff between two journey definitions (two versions, or a version and a draft).

Nodes are matched by id: a node is added, removed, or changed. A changed node lists each changed
field by path (`params.text`, `trigger.where[0].value`, `rules`), with its before and after JSON
values: mappings are compared key by key and lists of equal length item by item; a list whose
length changed is reported whole. Edges are matched as `(source, label, target)` triples, so
re-pointing an edge shows as one removed and one added. Settings are compared like node fields
(`timezone`, `quiet_hours.start`, `exit_triggers`).

Canvas metadata (`NodeUi`: positions, colours, notes) is not structure: a node whose only change
is its `ui` is listed in `layout_changed`, not `nodes_changed`, and does not make a diff non-empty.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.journey import Edge, JourneyDefinition


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldChange(_Frozen):
    """One field whose value differs; values are JSON (None when absent on that side)."""

    path: str
    before: Any = None
    after: Any = None


class NodeChange(_Frozen):
    """A node present on both sides whose definition differs."""

    node_id: str
    kind_before: str
    kind_after: str
    fields: list[FieldChange]


class JourneyDiff(_Frozen):
    """What changed from `before` to `after`.

    Added nodes and edges come in `after`'s order, removed ones in `before`'s.
    """

    nodes_added: list[str] = Field(default_factory=list)
    nodes_removed: list[str] = Field(default_factory=list)
    nodes_changed: list[NodeChange] = Field(default_factory=list)
    edges_added: list[Edge] = Field(default_factory=list)
    edges_removed: list[Edge] = Field(default_factory=list)
    settings_changed: list[FieldChange] = Field(default_factory=list)
    layout_changed: list[str] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Nodes on both sides whose canvas metadata differs.",
    )

    @property
    def empty(self) -> bool:
        """Whether the two definitions are structurally identical."""
        return not (
            self.nodes_added
            or self.nodes_removed
            or self.nodes_changed
            or self.edges_added
            or self.edges_removed
            or self.settings_changed
        )


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _changes(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Every leaf that differs between two JSON values, by path."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        keys = list(before) + [key for key in after if key not in before]
        found: list[FieldChange] = []
        for key in keys:
            found += _changes(before.get(key), after.get(key), _join(path, key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) and path:
        found = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            found += _changes(old, new, _join(path, index))
        return found
    return [FieldChange(path=path, before=before, after=after)]


def _edge_key(edge: Edge) -> tuple[str, str, str]:
    return (edge.source, edge.label, edge.target)


def _by_id(definition: JourneyDefinition) -> dict[str, dict[str, Any]]:
    # An invalid draft may repeat an id; the first node with it counts, as validation does.
    nodes: dict[str, dict[str, Any]] = {}
    for node in definition.nodes:
        nodes.setdefault(node.id, node.model_dump(mode="json", exclude={"ui"}))
    return nodes


def _layout_changed(before: JourneyDefinition, after: JourneyDefinition) -> list[str]:
    old = {node.id: node.ui for node in reversed(before.nodes)}
    new = {node.id: node.ui for node in reversed(after.nodes)}
    return [node.id for node in after.nodes if node.id in old and old[node.id] != new[node.id]]


def diff(before: JourneyDefinition, after: JourneyDefinition) -> JourneyDiff:
    """The structural difference from `before` to `after`."""
    old_nodes = _by_id(before)
    new_nodes = _by_id(after)
    changed = []
    for node_id, new in new_nodes.items():
        old = old_nodes.get(node_id)
        if old is None or old == new:
            continue
        fields = _changes(
            {k: v for k, v in old.items() if k not in ("id", "kind")},
            {k: v for k, v in new.items() if k not in ("id", "kind")},
        )
        changed.append(
            NodeChange(
                node_id=node_id, kind_before=old["kind"], kind_after=new["kind"], fields=fields
            )
        )
    old_edges = {_edge_key(edge) for edge in before.edges}
    new_edges = {_edge_key(edge) for edge in after.edges}
    return JourneyDiff(
        nodes_added=[node_id for node_id in new_nodes if node_id not in old_nodes],
        nodes_removed=[node_id for node_id in old_nodes if node_id not in new_nodes],
        nodes_changed=changed,
        edges_added=[edge for edge in after.edges if _edge_key(edge) not in old_edges],
        edges_removed=[edge for edge in before.edges if _edge_key(edge) not in new_edges],
        settings_changed=_changes(
            before.settings.model_dump(mode="json"), after.settings.model_dump(mode="json")
        ),
        layout_changed=list(dict.fromkeys(_layout_changed(before, after))),
    )
