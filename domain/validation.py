"""Journey validation: every problem of a definition at once, each named precisely.

`validate_journey` checks a parsed `JourneyDefinition` against the rules of `domain.journey`
(entry, edges and their labels, reachability, loops, durations, settings) and against the
connector catalog (channel, action, params, and the templates in params:
`domain.template_checks`). `parse_and_validate` does the same for a raw document, turning
pydantic's field errors into problems instead of raising.

Problems are data, never exceptions: a designer fixing a journey sees all of them together,
sorted by the node they concern (in definition order; journey-wide problems first).

Graph checks follow every edge whose ends exist, whatever its label, so one wrong edge is
reported once (as `invalid_edge_label`, `duplicate_edge`...) rather than also making the
nodes behind it look unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, assert_never
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from domain import template_checks
from domain.journey import (
    ActionNode,
    BranchNode,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    Node,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.node_kinds import ELSE, kind_of

ActionCatalog = Mapping[str, Mapping[str, type[BaseModel]]]
"""channel → action → the pydantic model its `params` must satisfy."""

MAX_WAIT = timedelta(days=400)
"""The longest a wait or an event wait may last (Temporal timers are fine beyond; people are not)."""

NAMED_PARAMS_PROBLEMS = frozenset({"destination_not_allowed", "reserved_header"})
"""Params problems a connector's params model names itself (a pydantic custom error of that
type), so clients can tell them apart; every other params error is `invalid_params`."""


class Problem(BaseModel):
    """One thing wrong with a journey.

    `code` is stable (clients switch on it); `message` is for people and names the node, edge
    and field; `path` points inside the node (`params.text`) or, for journey-wide problems, inside
    the definition (`settings.timezone`, `edges[3].target`).
    """

    model_config = ConfigDict(frozen=True)

    code: str
    node_id: str | None = None
    message: str
    path: str | None = None


def _human(delta: timedelta) -> str:
    """`2 days 3:00:00`-style text that also reads well for negative durations."""
    if delta < timedelta(0):
        return f"-{_human(-delta)}"
    days, seconds = delta.days, delta.seconds
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if seconds or delta.microseconds or not parts:
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        clock = f"{hours}h{minutes:02d}m{secs:02d}s"
        if delta.microseconds:
            clock += f"+{delta.microseconds}us"
        parts.append(clock)
    return " ".join(parts)


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
            self.check_node(node)
        self.check_settings()
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

    # --- per node -----------------------------------------------------------------------------

    def check_node(self, node: Node) -> None:
        match node:
            case EntryNode():
                self.check_entry(node)
            case WaitNode():
                self.check_wait(node)
            case WaitForEventNode():
                self.check_wait_for_event(node)
            case BranchNode():
                self.check_branch(node)
            case ActionNode():
                self.check_action(node)
            case UpdateProfileNode():
                self.check_profile_update(node)
            case GoalNode() | ExitNode():
                pass  # nothing of their own beyond the edge and graph checks
            case _:
                assert_never(node)

    def check_wait(self, node: WaitNode) -> None:
        if node.duration < timedelta(0) or node.duration > MAX_WAIT:
            why = (
                "must not be negative"
                if node.duration < timedelta(0)
                else "exceeds the 400-day maximum"
            )
            self.add(
                "duration_out_of_bounds",
                node.id,
                f"wait '{node.id}' lasts {_human(node.duration)}; the duration {why}",
                "duration",
            )

    def check_wait_for_event(self, node: WaitForEventNode) -> None:
        if node.timeout <= timedelta(0) or node.timeout > MAX_WAIT:
            why = (
                "must be positive"
                if node.timeout <= timedelta(0)
                else "exceeds the 400-day maximum"
            )
            self.add(
                "duration_out_of_bounds",
                node.id,
                f"wait_for_event '{node.id}' times out after {_human(node.timeout)}; "
                f"the timeout {why}",
                "timeout",
            )

    def check_entry(self, node: EntryNode) -> None:
        policy = node.reentry
        if policy.mode == "concurrent" and not policy.entry_key:
            self.add(
                "invalid_reentry",
                node.id,
                f"entry '{node.id}' allows concurrent enrollments but names no entry_key "
                "(the event property that tells the enrollments apart)",
                "reentry.entry_key",
            )
        elif policy.mode != "concurrent" and policy.entry_key is not None:
            self.add(
                "invalid_reentry",
                node.id,
                f"entry '{node.id}' sets entry_key '{policy.entry_key}' but reentry mode "
                f"'{policy.mode}' uses none; entry_key is for mode 'concurrent' only",
                "reentry.entry_key",
            )

    def check_branch(self, node: BranchNode) -> None:
        seen: set[str] = set()
        for index, rule in enumerate(node.rules):
            if rule.id == ELSE:
                self.add(
                    "reserved_rule_id",
                    node.id,
                    f"branch '{node.id}' rule {index} is named 'else', the label of the "
                    "fallback edge; rename the rule",
                    f"rules[{index}].id",
                )
            if rule.id in seen:
                self.add(
                    "duplicate_branch_rule",
                    node.id,
                    f"branch '{node.id}' rule {index} reuses the id '{rule.id}'; the later "
                    "rule could never be told apart from the earlier one",
                    f"rules[{index}].id",
                )
            seen.add(rule.id)

    def check_action(self, node: ActionNode) -> None:
        actions = self.catalog.get(node.channel)
        if actions is None:
            known = ", ".join(sorted(self.catalog)) or "none"
            self.add(
                "unknown_channel",
                node.id,
                f"action '{node.id}' uses channel '{node.channel}', which is not available "
                f"(channels: {known})",
                "channel",
            )
            return
        model = actions.get(node.action)
        if model is None:
            known = ", ".join(sorted(actions)) or "none"
            self.add(
                "unknown_action",
                node.id,
                f"action '{node.id}' asks channel '{node.channel}' for action '{node.action}', "
                f"which it does not offer (actions: {known})",
                "action",
            )
            return
        label = f"action '{node.id}' ({node.channel}.{node.action})"
        for problem in template_checks.check_params(label, model, node.params):
            self.add(problem.code, node.id, problem.message, problem.path)
        try:
            model.model_validate(node.params)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                path = _format_loc(("params", *error["loc"]))
                named = error["type"] in NAMED_PARAMS_PROBLEMS
                self.add(
                    error["type"] if named else "invalid_params",
                    node.id,
                    f"action '{node.id}' ({node.channel}.{node.action}): {path}: {error['msg']}",
                    path,
                )

    def check_profile_update(self, node: UpdateProfileNode) -> None:
        for tag in sorted(set(node.add_tags) & set(node.remove_tags)):
            self.add(
                "conflicting_profile_update",
                node.id,
                f"update_profile '{node.id}' both adds and removes tag '{tag}'",
                "remove_tags",
            )
        for name in sorted(set(node.set_attributes) & set(node.unset_attributes)):
            self.add(
                "conflicting_profile_update",
                node.id,
                f"update_profile '{node.id}' both sets and unsets attribute '{name}'",
                "unset_attributes",
            )

    def check_settings(self) -> None:
        zone = self.definition.settings.timezone
        if not _is_zone(zone):
            self.add(
                "invalid_timezone",
                None,
                f"settings.timezone '{zone}' is not a time zone of the IANA database "
                "(e.g. 'Asia/Shanghai')",
                "settings.timezone",
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
        reached = _closure(roots, self.succ)
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
        for component in _strongly_connected(graph):
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
        can_end = _closure(ends, self.pred)
        for node_id, node in self.nodes.items():
            if node_id not in can_end:
                self.add(
                    "no_path_to_end",
                    node_id,
                    f"no path from {node.kind} node '{node_id}' reaches an exit or a final goal: "
                    "every path loops forever (only exit triggers could end it)",
                )


def _is_zone(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ValueError, KeyError, OSError):  # bad key, not found, a directory or unreadable
        return False
    return True


def _closure(roots: Iterable[str], graph: Mapping[str, list[str]]) -> set[str]:
    """Every node reachable from `roots` in `graph` (roots included)."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for neighbour in graph[stack.pop()]:
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return seen


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (journeys may be large)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            neighbours = graph[node]
            if child < len(neighbours):
                work.append((node, child + 1))
                target = neighbours[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _format_loc(loc: Iterable[int | str]) -> str:
    """`('nodes', 3, 'params', 'text')` → `nodes[3].params.text`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


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
        return None, [_field_problem(raw, error["loc"], error["msg"]) for error in exc.errors()]
    return definition, validate_journey(definition, catalog)


def _field_problem(raw: Any, loc: tuple[int | str, ...], msg: str) -> Problem:
    node_id: str | None = None
    node_path = loc
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = raw.get("nodes") if isinstance(raw, Mapping) else None
        node = nodes[loc[1]] if isinstance(nodes, list) and loc[1] < len(nodes) else None
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            node_id = node["id"]
            node_path = loc[2:]
            # The discriminated union adds the node kind to the location; the path is the field.
            if node_path and node_path[0] == node.get("kind"):
                node_path = node_path[1:]
    path = _format_loc(node_path) or None
    where = f"node '{node_id}'" if node_id is not None else "the journey"
    field = f", {path}" if path else ""
    return Problem(
        code="invalid_field", node_id=node_id, message=f"{where}{field}: {msg}", path=path
    )
