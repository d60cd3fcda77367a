"""The checks of each node's own fields (durations, reentry, rules, channel params, profile
updates) and of the journey's settings; edges and the graph are `domain.validation.checker`'s."""

from __future__ import annotations

from datetime import timedelta
from typing import assert_never
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from domain import template_checks
from domain.journey import (
    ActionNode,
    BranchNode,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    Node,
    SplitNode,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilDateNode,
)
from domain.node_kinds import ELSE
from domain.validation.problems import ActionCatalog, Report, format_loc, human

MAX_WAIT = timedelta(days=400)
"""The longest a wait or an event wait may last (Temporal timers are fine beyond; people are not)."""

NAMED_PARAMS_PROBLEMS = frozenset({"destination_not_allowed", "reserved_header"})
"""Params problems a connector's params model names itself (a pydantic custom error of that
type), so clients can tell them apart; every other params error is `invalid_params`."""


def check_node(report: Report, catalog: ActionCatalog, node: Node) -> None:
    """The checks of one node's own fields; one `case` per node kind."""
    match node:
        case EntryNode():
            _check_entry(report, node)
        case WaitNode():
            _check_wait(report, node)
        case WaitForEventNode():
            _check_wait_for_event(report, node)
        case WaitUntilDateNode():
            _check_wait_until_date(report, node)
        case BranchNode():
            _check_branch(report, node)
        case SplitNode():
            _check_split(report, node)
        case ActionNode():
            _check_action(report, catalog, node)
        case UpdateProfileNode():
            _check_profile_update(report, node)
        case GoalNode() | ExitNode():
            pass  # nothing of their own beyond the edge and graph checks
        case _:
            assert_never(node)


def _check_wait(report: Report, node: WaitNode) -> None:
    if node.duration < timedelta(0) or node.duration > MAX_WAIT:
        why = (
            "must not be negative"
            if node.duration < timedelta(0)
            else "exceeds the 400-day maximum"
        )
        report(
            "duration_out_of_bounds",
            node.id,
            f"wait '{node.id}' lasts {human(node.duration)}; the duration {why}",
            "duration",
        )


def _check_wait_for_event(report: Report, node: WaitForEventNode) -> None:
    if node.timeout <= timedelta(0) or node.timeout > MAX_WAIT:
        why = "must be positive" if node.timeout <= timedelta(0) else "exceeds the 400-day maximum"
        report(
            "duration_out_of_bounds",
            node.id,
            f"wait_for_event '{node.id}' times out after {human(node.timeout)}; the timeout {why}",
            "timeout",
        )


def _check_wait_until_date(report: Report, node: WaitUntilDateNode) -> None:
    if abs(node.offset) > MAX_WAIT:
        report(
            "duration_out_of_bounds",
            node.id,
            f"wait_until_date '{node.id}' moves the date by {human(node.offset)}; the offset "
            "exceeds 400 days either way",
            "offset",
        )
    if node.yearly and abs(node.offset) >= timedelta(days=365):
        report(
            "duration_out_of_bounds",
            node.id,
            f"wait_until_date '{node.id}' waits for an anniversary moved by "
            f"{human(node.offset)}; a yearly date's offset must be under a year",
            "offset",
        )
    if node.at is not None and node.at.weekdays:
        report(
            "invalid_field",
            node.id,
            f"wait_until_date '{node.id}' lands on a date: `at` takes an hour and minute, "
            "not weekdays",
            "at.weekdays",
        )


def _check_split(report: Report, node: SplitNode) -> None:
    seen: set[str] = set()
    for index, variant in enumerate(node.variants):
        if variant.id in seen:
            report(
                "duplicate_variant",
                node.id,
                f"split '{node.id}' variant {index} reuses the id '{variant.id}'; each variant "
                "is the label of its own edge",
                f"variants[{index}].id",
            )
        seen.add(variant.id)
    if not any(variant.weight for variant in node.variants):
        report(
            "invalid_split",
            node.id,
            f"split '{node.id}' gives every variant weight 0; give at least one a share",
            "variants",
        )
    holdouts = [index for index, variant in enumerate(node.variants) if variant.holdout]
    for index in holdouts[1:]:
        report(
            "invalid_split",
            node.id,
            f"split '{node.id}' has a second holdout (variant {index}); one control group only",
            f"variants[{index}].holdout",
        )
    if node.winner is None:
        return
    if node.winner.after is None and node.winner.min_sample is None:
        report(
            "invalid_split",
            node.id,
            f"split '{node.id}' picks a winner but says neither when (`after`) nor after how "
            "many enrollments (`min_sample`)",
            "winner",
        )
    if node.winner.after is not None and not timedelta(0) < node.winner.after <= MAX_WAIT:
        report(
            "duration_out_of_bounds",
            node.id,
            f"split '{node.id}' decides after {human(node.winner.after)}; that must be "
            "positive and at most 400 days",
            "winner.after",
        )
    if len(node.variants) - len(holdouts) < 2:
        report(
            "invalid_split",
            node.id,
            f"split '{node.id}' picks a winner among fewer than two variants besides the holdout",
            "winner",
        )


def _check_entry(report: Report, node: EntryNode) -> None:
    policy = node.reentry
    if policy.mode == "concurrent" and not policy.entry_key:
        report(
            "invalid_reentry",
            node.id,
            f"entry '{node.id}' allows concurrent enrollments but names no entry_key "
            "(the event property that tells the enrollments apart)",
            "reentry.entry_key",
        )
    elif policy.mode != "concurrent" and policy.entry_key is not None:
        report(
            "invalid_reentry",
            node.id,
            f"entry '{node.id}' sets entry_key '{policy.entry_key}' but reentry mode "
            f"'{policy.mode}' uses none; entry_key is for mode 'concurrent' only",
            "reentry.entry_key",
        )


def _check_branch(report: Report, node: BranchNode) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(node.rules):
        if rule.id == ELSE:
            report(
                "reserved_rule_id",
                node.id,
                f"branch '{node.id}' rule {index} is named 'else', the label of the "
                "fallback edge; rename the rule",
                f"rules[{index}].id",
            )
        if rule.id in seen:
            report(
                "duplicate_branch_rule",
                node.id,
                f"branch '{node.id}' rule {index} reuses the id '{rule.id}'; the later "
                "rule could never be told apart from the earlier one",
                f"rules[{index}].id",
            )
        seen.add(rule.id)


def _check_action(report: Report, catalog: ActionCatalog, node: ActionNode) -> None:
    actions = catalog.get(node.channel)
    if actions is None:
        known = ", ".join(sorted(catalog)) or "none"
        report(
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
        report(
            "unknown_action",
            node.id,
            f"action '{node.id}' asks channel '{node.channel}' for action '{node.action}', "
            f"which it does not offer (actions: {known})",
            "action",
        )
        return
    label = f"action '{node.id}' ({node.channel}.{node.action})"
    for problem in template_checks.check_params(label, model, node.params):
        report(problem.code, node.id, problem.message, problem.path)
    try:
        model.model_validate(node.params)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = format_loc(("params", *error["loc"]))
            named = error["type"] in NAMED_PARAMS_PROBLEMS
            report(
                error["type"] if named else "invalid_params",
                node.id,
                f"action '{node.id}' ({node.channel}.{node.action}): {path}: {error['msg']}",
                path,
            )


def _check_profile_update(report: Report, node: UpdateProfileNode) -> None:
    for tag in sorted(set(node.add_tags) & set(node.remove_tags)):
        report(
            "conflicting_profile_update",
            node.id,
            f"update_profile '{node.id}' both adds and removes tag '{tag}'",
            "remove_tags",
        )
    for name in sorted(set(node.set_attributes) & set(node.unset_attributes)):
        report(
            "conflicting_profile_update",
            node.id,
            f"update_profile '{node.id}' both sets and unsets attribute '{name}'",
            "unset_attributes",
        )


def check_settings(report: Report, definition: JourneyDefinition) -> None:
    """Journey-wide settings: the time zone."""
    zone = definition.settings.timezone
    if not _is_zone(zone):
        report(
            "invalid_timezone",
            None,
            f"settings.timezone '{zone}' is not a time zone of the IANA database "
            "(e.g. 'Asia/Shanghai')",
            "settings.timezone",
        )


def _is_zone(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ValueError, KeyError, OSError):  # bad key, not found, a directory or unreadable
        return False
    return True
