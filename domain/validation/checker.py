"""One validation run: the structure (nodes, entry, edges and their labels) and the graph
(reachability, loops without a pause, paths to an end). Each node's own fields are checked in
`domain.validation.nodes`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from domain.journey import BranchNode, EntryNode, ExitNode, GoalNode, JourneyDefinition, Node
from domain.node_kinds import ELSE, kind_of
from domain.validation.graph import closure, strongly_connected
from domain.validation.nodes import check_node, check_settings
from domain.validation.problems import ActionCatalog, Problem, field_problem


class _Checker:
    """One validation run: indexes the definition once, then each check appends problems."""

    def __init__(self, definition: JourneyDefinition, catalog: ActionCatalog) -> None:
        self.definition = definition
        self.catalog = catalog
        self.problems: list[Problem] = []
        self.nodes: dict[str, Node] = {}
        for node in definition.nodes:
            self.nodes.setdefault(node.id, node)
        self.order = {node_id: index for index, node_id in enumerate(self.nodes)}
        # Every edge whose two ends exist, whatever its label: the graph the checks walk.
        self.succ: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        self.pred: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        # Labels each node has an edge for, dangling or not (a dangling edge is reported once).
        self.labels: dict[str, set[str]] = {node_id: set() for node_id in self.nodes}
        self.dangling_from: set[str] = set()

    def add(self, code: str, node_id: str | None, message: str, path: str | None = None) -> None:
        self.problems.append(Problem(code=code, node_id=node_id, message=message, path=path))

    def run(self) -> list[Problem]:
        self.check_nodes_and_entry()
        self.check_edges()
        self.check_required_edges()
        for node in self.nodes.values():
            check_node(self.add, self.catalog, node)
        check_settings(self.add, self.definition)
        self.check_reachability()
        self.check_loops_without_wait()
        self.check_paths_to_end()
        return sorted(self.problems, key=self.sort_key)

    def sort_key(self, problem: Problem) -> tuple[int, int, str, str, str, str]:
        if problem.node_id is None:
            return (0, 0, "", problem.code, problem.path or "", problem.message)
        rank = self.order.get(problem.node_id, len(self.order))
        return (1, rank, problem.node_id, problem.code, problem.path or "", problem.message)

    # --- nodes, entry -------------------------------------------------------------------------

    def check_nodes_and_entry(self) -> None:
        seen: set[str] = set()
        entries: list[str] = []
        for index, node in enumerate(self.definition.nodes):
            if node.id in seen:
                first = self.nodes[node.id]
                self.add(
                    "duplicate_node_id",
                    node.id,
                    f"nodes[{index}] ({node.kind}) reuses the id '{node.id}' of an earlier "
                    f"{first.kind} node; node ids must be unique",
                    f"nodes[{index}].id",
                )
                continue
            seen.add(node.id)
            if isinstance(node, EntryNode):
                entries.append(node.id)
        if not entries:
            self.add("no_entry", None, "the journey has no entry node; add exactly one", "nodes")
        for extra in entries[1:]:
            self.add(
                "multiple_entries",
                extra,
                f"entry node '{extra}' is a second entry (the first is '{entries[0]}'); "
                "a journey has exactly one",
            )

    # --- edges --------------------------------------------------------------------------------

    def check_edges(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for index, edge in enumerate(self.definition.edges):
            name = f"edge {index} ('{edge.source}' --{edge.label}--> '{edge.target}')"
            source = self.nodes.get(edge.source)
            target = self.nodes.get(edge.target)
            if source is None:
                self.add(
                    "dangling_edge",
                    None,
                    f"{name} starts at '{edge.source}', which is not a node of this journey",
                    f"edges[{index}].source",
                )
            if target is None:
                self.add(
                    "dangling_edge",
                    edge.source if source is not None else None,
                    f"{name} leads to '{edge.target}', which is not a node of this journey",
                    f"edges[{index}].target",
                )
            if source is not None:
                self.check_edge_label(index, name, source, edge.label)
                self.labels[source.id].add(edge.label)
                key = (edge.source, edge.label)
                if key in seen:
                    self.add(
                        "duplicate_edge",
                        source.id,
                        f"{name} repeats label '{edge.label}' of edge {seen[key]} from "
                        f"'{source.id}'; each outgoing label leads to one node",
                        f"edges[{index}]",
                    )
                else:
                    seen[key] = index
                if target is None:
                    self.dangling_from.add(source.id)
            if target is not None:
                if isinstance(target, EntryNode):
                    self.add(
                        "edge_into_entry",
                        target.id,
                        f"{name} leads into entry node '{target.id}'; nothing may lead back "
                        "to the entry (use reentry settings instead)",
                        f"edges[{index}]",
                    )
                elif isinstance(target, GoalNode):
                    self.add(
                        "edge_into_goal",
                        target.id,
                        f"{name} leads into goal node '{target.id}'; goals are reached by "
                        f"their event ('{target.event_type}') from anywhere, never by an edge",
                        f"edges[{index}]",
                    )
            if source is not None and target is not None:
                self.succ[source.id].append(target.id)
                self.pred[target.id].append(source.id)

    def check_edge_label(self, index: int, name: str, source: Node, label: str) -> None:
        if isinstance(source, ExitNode):
            self.add(
                "exit_has_outgoing_edge",
                source.id,
                f"{name} leaves exit node '{source.id}'; an exit ends the enrollment",
                f"edges[{index}]",
            )
            return
        _, allowed = kind_of(source).labels(source)
        if label not in allowed:
            expected = ", ".join(f"'{item}'" for item in sorted(allowed))
            self.add(
                "invalid_edge_label",
                source.id,
                f"{name} has label '{label}', which a {source.kind} node cannot use "
                f"(allowed: {expected})",
                f"edges[{index}].label",
            )

    def check_required_edges(self) -> None:
        for node in self.nodes.values():
            required, _ = kind_of(node).labels(node)
            for label in required:
                if label in self.labels[node.id]:
                    continue
                if isinstance(node, BranchNode) and label == ELSE:
                    self.add(
                        "missing_else",
                        node.id,
                        f"branch '{node.id}' has no 'else' edge: where do customers matching "
                        "no rule go?",
                    )
                else:
                    self.add(
                        "missing_edge",
                        node.id,
                        f"{node.kind} node '{node.id}' has no outgoing '{label}' edge",
                    )

    # --- graph --------------------------------------------------------------------------------

    def check_reachability(self) -> None:
        roots = [
            node_id
            for node_id, node in self.nodes.items()
            if isinstance(node, EntryNode | GoalNode)
        ]
        if not any(isinstance(node, EntryNode) for node in self.nodes.values()):
            return  # `no_entry` says it all; every node would be "unreachable"
        reached = closure(roots, self.succ)
        for node_id, node in self.nodes.items():
            if node_id not in reached:
                self.add(
                    "unreachable_node",
                    node_id,
                    f"{node.kind} node '{node_id}' cannot be reached from the entry "
                    "or from any goal",
                )

    def check_loops_without_wait(self) -> None:
        instant = {
            node_id for node_id, node in self.nodes.items() if not kind_of(node).pauses(node)
        }
        graph = {
            node_id: [target for target in self.succ[node_id] if target in instant]
            for node_id in instant
        }
        for component in strongly_connected(graph):
            looping = len(component) > 1 or component[0] in graph[component[0]]
            if not looping:
                continue
            members = sorted(component, key=self.order.__getitem__)
            listed = " → ".join(f"'{member}'" for member in [*members, members[0]])
            self.add(
                "cycle_without_wait",
                members[0],
                f"the loop {listed} passes no wait with a duration and no wait_for_event, "
                "so it would spin without pause",
            )

    def check_paths_to_end(self) -> None:
        ends = [
            node_id
            for node_id, node in self.nodes.items()
            if isinstance(node, ExitNode)
            or (isinstance(node, GoalNode) and not self.succ[node_id])
            # Nodes already reported for a missing or dangling edge count as ends, so one
            # missing edge is not reported again on every node upstream of it.
            or node_id in self.dangling_from
            or not set(kind_of(node).labels(node)[0]) <= self.labels[node_id]
        ]
        can_end = closure(ends, self.pred)
        for node_id, node in self.nodes.items():
            if node_id not in can_end:
                self.add(
                    "no_path_to_end",
                    node_id,
                    f"no path from {node.kind} node '{node_id}' reaches an exit or a final goal: "
                    "every path loops forever (only exit triggers could end it)",
                )


def validate_journey(definition: JourneyDefinition, catalog: ActionCatalog) -> list[Problem]:
    """Every problem of `definition`, sorted by node (definition order), code, path, message.

    An empty list means the journey may be published. Never raises on a parsed definition.
    """
    return _Checker(definition, catalog).run()


def parse_and_validate(
    raw: Mapping[str, Any], catalog: ActionCatalog
) -> tuple[JourneyDefinition | None, list[Problem]]:
    """Parse a raw document and validate it: `(definition, problems)`.

    A document that does not parse gives `(None, problems)` with one `invalid_field` problem per
    field error, attributed to the node at that index when its raw `id` is readable.
    """
    try:
        definition = JourneyDefinition.model_validate(raw)
    except ValidationError as exc:
        return None, [field_problem(raw, error["loc"], error["msg"]) for error in exc.errors()]
    return definition, validate_journey(definition, catalog)
