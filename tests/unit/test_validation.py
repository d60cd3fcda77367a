"""Journey validation names every problem at once, one stable code each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, SecretStr

from connectors.netguard import DestinationGuard
from connectors.sms import SmsConnector
from connectors.webhook import FixedSigningSecrets, PostParams, WebhookConnector
from connectors.wechat import OfficialAccountConnector
from connectors.wecom import WeComConnector
from domain.conditions import TagCondition
from domain.journey import (
    ActionNode,
    BranchNode,
    BranchRule,
    Edge,
    EntryNode,
    ExitNode,
    GoalNode,
    JourneyDefinition,
    JourneySettings,
    Node,
    ReentryPolicy,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
)
from domain.templates import TEMPLATES, canonical_journey
from domain.validation import ActionCatalog, Problem, parse_and_validate, validate_journey


class SendMessage(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    to: Literal["contact", "group", "oa", "sms"] = "contact"
    template: str | None = None
    simulate: Literal["ok", "transient", "permanent"] = "ok"


class Noop(BaseModel):
    pass


CATALOG: ActionCatalog = {
    "sandbox": {"send_message": SendMessage, "noop": Noop},
    # The real params models: the templates' WeCom, SMS and OA steps are checked against them.
    "wecom": {name: spec.params_model for name, spec in WeComConnector.actions.items()},
    "sms": {name: spec.params_model for name, spec in SmsConnector.actions.items()},
    "oa": {name: spec.params_model for name, spec in OfficialAccountConnector.actions.items()},
}


def journey(
    nodes: list[Node], edges: list[tuple[str, str, str]], **settings: Any
) -> JourneyDefinition:
    return JourneyDefinition(
        nodes=nodes,
        edges=[Edge(source=source, label=label, target=target) for source, label, target in edges],
        settings=JourneySettings(**settings),
    )


def codes(problems: list[Problem]) -> list[str]:
    return [problem.code for problem in problems]


def send(node_id: str, **params: Any) -> ActionNode:
    return ActionNode(
        id=node_id, channel="sandbox", action="send_message", params=params or {"text": "hi"}
    )


ENTRY = EntryNode(id="entry")
DONE = ExitNode(id="done")
HOUR = timedelta(hours=1)


def test_a_minimal_journey_has_no_problems() -> None:
    assert validate_journey(journey([ENTRY, DONE], [("entry", "next", "done")]), CATALOG) == []


@pytest.mark.parametrize("scale", ["real", "demo"])
def test_the_canonical_journey_validates_clean_in_both_scales(
    scale: Literal["real", "demo"],
) -> None:
    assert validate_journey(canonical_journey(scale), CATALOG) == []


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_listed_template_validates_clean(key: str) -> None:
    assert validate_journey(TEMPLATES[key].build(), CATALOG) == []


def test_a_journey_without_entry_is_reported() -> None:
    problems = validate_journey(journey([DONE], []), CATALOG)
    assert codes(problems) == ["no_entry"]
    assert problems[0].node_id is None


def test_a_second_entry_is_reported_on_that_entry() -> None:
    definition = journey(
        [ENTRY, EntryNode(id="entry2"), DONE],
        [("entry", "next", "done"), ("entry2", "next", "done")],
    )
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["multiple_entries"]
    assert problems[0].node_id == "entry2"
    assert "'entry'" in problems[0].message


def test_a_reused_node_id_is_reported_with_its_index() -> None:
    definition = journey(
        [ENTRY, DONE, ExitNode(id="done", reason="other")], [("entry", "next", "done")]
    )
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["duplicate_node_id"]
    assert problems[0].path == "nodes[2].id"


def test_an_edge_to_an_unknown_node_is_dangling() -> None:
    problems = validate_journey(journey([ENTRY], [("entry", "next", "ghost")]), CATALOG)
    assert codes(problems) == ["dangling_edge"]
    assert problems[0].node_id == "entry"
    assert problems[0].path == "edges[0].target"
    assert "'ghost'" in problems[0].message


def test_an_edge_from_an_unknown_node_is_dangling() -> None:
    definition = journey([ENTRY, DONE], [("entry", "next", "done"), ("ghost", "next", "done")])
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["dangling_edge"]
    assert problems[0].path == "edges[1].source"


def test_a_label_the_source_kind_cannot_use_is_reported() -> None:
    definition = journey([ENTRY, DONE], [("entry", "next", "done"), ("entry", "timed_out", "done")])
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["invalid_edge_label"]
    assert problems[0].path == "edges[1].label"
    assert "'timed_out'" in problems[0].message and "'next'" in problems[0].message


def test_a_branch_accepts_its_rule_ids_and_else_but_no_other_label() -> None:
    branch = BranchNode(
        id="vip", rules=[BranchRule(id="tagged", conditions=[TagCondition(tag="vip")])]
    )
    edges = [("entry", "next", "vip"), ("vip", "tagged", "done"), ("vip", "else", "done")]
    definition = journey([ENTRY, branch, DONE], edges)
    assert validate_journey(definition, CATALOG) == []
    wrong = journey([ENTRY, branch, DONE], [*edges, ("vip", "next", "done")])
    assert codes(validate_journey(wrong, CATALOG)) == ["invalid_edge_label"]


def test_two_edges_with_the_same_source_and_label_are_reported() -> None:
    definition = journey(
        [ENTRY, DONE, ExitNode(id="other")],
        [("entry", "next", "done"), ("entry", "next", "other")],
    )
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["duplicate_edge"]
    assert problems[0].path == "edges[1]"


def test_a_missing_required_edge_is_reported() -> None:
    problems = validate_journey(journey([ENTRY], []), CATALOG)
    assert codes(problems) == ["missing_edge"]
    assert problems[0].node_id == "entry"
    assert "'next'" in problems[0].message


def test_a_wait_for_event_needs_both_matched_and_timed_out() -> None:
    waiting = WaitForEventNode(id="joined", event_type="wecom.group_joined", timeout=HOUR)
    definition = journey(
        [ENTRY, waiting, DONE], [("entry", "next", "joined"), ("joined", "matched", "done")]
    )
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["missing_edge"]
    assert "'timed_out'" in problems[0].message


def test_a_branch_without_else_is_reported_as_missing_else() -> None:
    branch = BranchNode(
        id="vip", rules=[BranchRule(id="tagged", conditions=[TagCondition(tag="vip")])]
    )
    definition = journey(
        [ENTRY, branch, DONE], [("entry", "next", "vip"), ("vip", "tagged", "done")]
    )
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["missing_else"]
    assert problems[0].node_id == "vip"


def test_an_edge_back_into_the_entry_is_reported() -> None:
    waiting = WaitForEventNode(id="bought", event_type="order.paid", timeout=HOUR)
    edges = [
        ("entry", "next", "bought"),
        ("bought", "matched", "entry"),
        ("bought", "timed_out", "done"),
    ]
    problems = validate_journey(journey([ENTRY, waiting, DONE], edges), CATALOG)
    assert codes(problems) == ["edge_into_entry"]


def test_an_edge_into_a_goal_is_reported() -> None:
    goal = GoalNode(id="paid", event_type="order.paid")
    problems = validate_journey(journey([ENTRY, goal], [("entry", "next", "paid")]), CATALOG)
    assert codes(problems) == ["edge_into_goal"]
    assert problems[0].node_id == "paid"


def test_an_edge_leaving_an_exit_is_reported() -> None:
    definition = journey(
        [ENTRY, DONE, ExitNode(id="later")], [("entry", "next", "done"), ("done", "next", "later")]
    )
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["exit_has_outgoing_edge"]
    assert problems[0].node_id == "done"


def test_a_node_nothing_leads_to_is_unreachable() -> None:
    definition = journey([ENTRY, DONE, ExitNode(id="orphan")], [("entry", "next", "done")])
    problems = validate_journey(definition, CATALOG)
    assert codes(problems) == ["unreachable_node"]
    assert problems[0].node_id == "orphan"


def test_nodes_behind_a_goal_are_reachable() -> None:
    goal = GoalNode(id="paid", event_type="order.paid")
    tag = UpdateProfileNode(id="tag", add_tags=["stage:customer"])
    definition = journey(
        [ENTRY, DONE, goal, tag],
        [("entry", "next", "done"), ("paid", "next", "tag"), ("tag", "next", "done")],
    )
    assert validate_journey(definition, CATALOG) == []


def test_a_loop_without_any_wait_is_reported_once_naming_its_nodes() -> None:
    tag = UpdateProfileNode(id="tag", add_tags=["x"])
    branch = BranchNode(
        id="again", rules=[BranchRule(id="loop", conditions=[TagCondition(tag="x")])]
    )
    edges = [
        ("entry", "next", "tag"),
        ("tag", "next", "again"),
        ("again", "loop", "tag"),
        ("again", "else", "done"),
    ]
    problems = validate_journey(journey([ENTRY, tag, branch, DONE], edges), CATALOG)
    assert codes(problems) == ["cycle_without_wait"]
    assert problems[0].node_id == "tag"
    assert "'tag'" in problems[0].message and "'again'" in problems[0].message


def test_a_zero_wait_does_not_break_a_loop_but_a_timed_wait_does() -> None:
    def looping(duration: timedelta) -> JourneyDefinition:
        waiting = WaitNode(id="pause", duration=duration)
        branch = BranchNode(
            id="again", rules=[BranchRule(id="loop", conditions=[TagCondition(tag="x")])]
        )
        edges = [
            ("entry", "next", "pause"),
            ("pause", "next", "again"),
            ("again", "loop", "pause"),
            ("again", "else", "done"),
        ]
        return journey([ENTRY, waiting, branch, DONE], edges)

    assert codes(validate_journey(looping(timedelta(0)), CATALOG)) == ["cycle_without_wait"]
    assert validate_journey(looping(HOUR), CATALOG) == []


@pytest.mark.parametrize(
    ("node", "bound"),
    [
        (WaitNode(id="w", duration=timedelta(days=401)), "400-day maximum"),
        (WaitNode(id="w", duration=-HOUR), "negative"),
        (WaitForEventNode(id="w", event_type="order.paid", timeout=timedelta(0)), "positive"),
        (
            WaitForEventNode(
                id="w", event_type="order.paid", timeout=timedelta(days=400, seconds=1)
            ),
            "400-day maximum",
        ),
    ],
)
def test_a_duration_out_of_bounds_names_the_bound(node: Node, bound: str) -> None:
    labels = ["matched", "timed_out"] if isinstance(node, WaitForEventNode) else ["next"]
    edges = [("entry", "next", "w"), *(("w", label, "done") for label in labels)]
    problems = validate_journey(journey([ENTRY, node, DONE], edges), CATALOG)
    assert codes(problems) == ["duration_out_of_bounds"]
    assert bound in problems[0].message
    assert problems[0].path in {"duration", "timeout"}


def test_the_longest_allowed_wait_is_fine() -> None:
    waiting = WaitNode(id="w", duration=timedelta(days=400))
    definition = journey([ENTRY, waiting, DONE], [("entry", "next", "w"), ("w", "next", "done")])
    assert validate_journey(definition, CATALOG) == []


def _with_action(action: ActionNode) -> JourneyDefinition:
    return journey(
        [ENTRY, action, DONE], [("entry", "next", action.id), (action.id, "next", "done")]
    )


def test_an_unknown_channel_is_reported() -> None:
    action = ActionNode(id="mail", channel="email", action="send", params={})
    problems = validate_journey(_with_action(action), CATALOG)
    assert codes(problems) == ["unknown_channel"]
    assert "'email'" in problems[0].message and "sandbox" in problems[0].message


def test_an_unknown_action_is_reported() -> None:
    action = ActionNode(id="fax", channel="sandbox", action="send_fax", params={})
    problems = validate_journey(_with_action(action), CATALOG)
    assert codes(problems) == ["unknown_action"]
    assert "send_message" in problems[0].message


def test_each_params_error_is_its_own_problem_with_its_path() -> None:
    problems = validate_journey(_with_action(send("hello", text="", to="fax")), CATALOG)
    assert codes(problems) == ["invalid_params", "invalid_params"]
    assert [problem.path for problem in problems] == ["params.text", "params.to"]
    assert all(problem.node_id == "hello" for problem in problems)


def post(node_id: str, **params: Any) -> ActionNode:
    return ActionNode(id=node_id, channel="webhook", action="post", params=params)


WEBHOOK_CATALOG: ActionCatalog = {"webhook": {"post": PostParams}}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]:7233/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.8/",
        "http://mongodb:27017/",
        "http://temporal:7233/",
        "http://temporal-ui:8080/",
        "http://localhost:8000/graphql",
        "http://metadata.google.internal/",
    ],
)
def test_a_webhook_to_an_internal_destination_is_a_named_problem_on_the_node(url: str) -> None:
    problems = validate_journey(_with_action(post("notify", url=url)), WEBHOOK_CATALOG)
    assert codes(problems) == ["destination_not_allowed"]
    [problem] = problems
    assert (problem.node_id, problem.path) == ("notify", "params.url")
    assert "destination not allowed" in problem.message


def test_a_webhook_to_a_public_host_validates() -> None:
    definition = _with_action(post("notify", url="https://hooks.example.com/omni"))
    assert validate_journey(definition, WEBHOOK_CATALOG) == []


async def test_the_deployment_allow_list_lets_on_premise_receivers_validate() -> None:
    guard = DestinationGuard(["10.20.0.0/16", "receiver"])
    async with WebhookConnector(FixedSigningSecrets(SecretStr("s")), guard) as webhook:
        catalog: ActionCatalog = {"webhook": {"post": webhook.actions["post"].params_model}}
        for allowed in ["http://10.20.1.2/hook", "http://receiver:9000/", "http://RECEIVER./"]:
            assert validate_journey(_with_action(post("n", url=allowed)), catalog) == [], allowed
        for refused in ["http://10.21.0.1/", "http://mongodb/", "http://127.0.0.1/"]:
            problems = validate_journey(_with_action(post("n", url=refused)), catalog)
            assert codes(problems) == ["destination_not_allowed"], refused


@pytest.mark.parametrize(
    "header",
    [
        "Cookie",
        "set-cookie",
        "Connection",
        "Keep-Alive",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Proxy-Authorization",
        "Proxy-Connection",
        "Authorization",
        "Host",
        "X-Omnijourney-Signature",
    ],
)
def test_a_reserved_webhook_header_is_a_named_problem_on_the_node(header: str) -> None:
    action = post("notify", url="https://hooks.example.com/", headers={header: "x"})
    problems = validate_journey(_with_action(action), WEBHOOK_CATALOG)
    assert codes(problems) == ["reserved_header"]
    assert (problems[0].node_id, problems[0].path) == ("notify", "params.headers")
    assert header in problems[0].message


def test_an_action_may_have_a_failed_edge() -> None:
    action = send("hello")
    definition = journey(
        [ENTRY, action, DONE, ExitNode(id="failed")],
        [("entry", "next", "hello"), ("hello", "next", "done"), ("hello", "failed", "failed")],
    )
    assert validate_journey(definition, CATALOG) == []


def test_a_repeated_branch_rule_id_is_reported() -> None:
    rule = BranchRule(id="tagged", conditions=[TagCondition(tag="vip")])
    branch = BranchNode(id="vip", rules=[rule, rule])
    edges = [("entry", "next", "vip"), ("vip", "tagged", "done"), ("vip", "else", "done")]
    problems = validate_journey(journey([ENTRY, branch, DONE], edges), CATALOG)
    assert codes(problems) == ["duplicate_branch_rule"]
    assert problems[0].path == "rules[1].id"


def test_a_branch_rule_named_else_is_reported() -> None:
    branch = BranchNode(
        id="vip", rules=[BranchRule(id="else", conditions=[TagCondition(tag="vip")])]
    )
    edges = [("entry", "next", "vip"), ("vip", "else", "done")]
    problems = validate_journey(journey([ENTRY, branch, DONE], edges), CATALOG)
    assert codes(problems) == ["reserved_rule_id"]


def test_an_unknown_timezone_is_reported() -> None:
    problems = validate_journey(
        journey([ENTRY, DONE], [("entry", "next", "done")], timezone="Mars/Olympus"), CATALOG
    )
    assert codes(problems) == ["invalid_timezone"]
    assert problems[0].path == "settings.timezone"


@pytest.mark.parametrize(
    "policy",
    [ReentryPolicy(mode="concurrent"), ReentryPolicy(mode="after_exit", entry_key="order.id")],
)
def test_an_inconsistent_reentry_policy_is_reported(policy: ReentryPolicy) -> None:
    entry = EntryNode(id="entry", reentry=policy)
    problems = validate_journey(journey([entry, DONE], [("entry", "next", "done")]), CATALOG)
    assert codes(problems) == ["invalid_reentry"]
    assert problems[0].path == "reentry.entry_key"


def test_concurrent_reentry_with_an_entry_key_is_fine() -> None:
    entry = EntryNode(id="entry", reentry=ReentryPolicy(mode="concurrent", entry_key="order.id"))
    assert validate_journey(journey([entry, DONE], [("entry", "next", "done")]), CATALOG) == []


def test_a_profile_update_adding_and_removing_a_tag_is_reported() -> None:
    tag = UpdateProfileNode(id="tag", add_tags=["vip"], remove_tags=["vip"])
    problems = validate_journey(
        journey([ENTRY, tag, DONE], [("entry", "next", "tag"), ("tag", "next", "done")]), CATALOG
    )
    assert codes(problems) == ["conflicting_profile_update"]


def test_nodes_whose_every_path_loops_forever_have_no_path_to_end() -> None:
    waiting = WaitNode(id="weekly", duration=timedelta(days=7))
    edges = [("entry", "next", "weekly"), ("weekly", "next", "hello"), ("hello", "next", "weekly")]
    problems = validate_journey(journey([ENTRY, waiting, send("hello")], edges), CATALOG)
    assert codes(problems) == ["no_path_to_end"] * 3
    assert [problem.node_id for problem in problems] == ["entry", "weekly", "hello"]


def test_a_loop_with_a_timed_out_way_out_has_a_path_to_end() -> None:
    waiting = WaitForEventNode(id="bought", event_type="order.paid", timeout=timedelta(days=14))
    edges = [
        ("entry", "next", "bought"),
        ("bought", "matched", "hello"),
        ("hello", "next", "bought"),
        ("bought", "timed_out", "done"),
    ]
    assert validate_journey(journey([ENTRY, waiting, send("hello"), DONE], edges), CATALOG) == []


def test_a_journey_with_many_problems_gets_them_all_at_once_in_node_order() -> None:
    nodes: list[Node] = [
        ENTRY,
        WaitNode(id="wait", duration=timedelta(days=500)),
        send("hello", text=""),
        ActionNode(id="mail", channel="email", action="send"),
        BranchNode(id="vip", rules=[BranchRule(id="tagged", conditions=[TagCondition(tag="vip")])]),
        GoalNode(id="paid", event_type="order.paid"),
        DONE,
        ExitNode(id="orphan"),
    ]
    edges = [
        ("entry", "next", "wait"),
        ("wait", "next", "hello"),
        ("hello", "next", "mail"),
        ("mail", "next", "vip"),
        ("vip", "tagged", "paid"),
        ("vip", "bogus", "done"),
        ("done", "next", "nowhere"),
    ]
    problems = validate_journey(journey(nodes, edges, timezone="Nowhere/Land"), CATALOG)
    assert [(problem.code, problem.node_id) for problem in problems] == [
        ("invalid_timezone", None),
        ("duration_out_of_bounds", "wait"),
        ("invalid_params", "hello"),
        ("unknown_channel", "mail"),
        ("invalid_edge_label", "vip"),
        ("missing_else", "vip"),
        ("edge_into_goal", "paid"),
        ("dangling_edge", "done"),
        ("exit_has_outgoing_edge", "done"),
        ("unreachable_node", "orphan"),
    ]
    assert validate_journey(journey(nodes, edges, timezone="Nowhere/Land"), CATALOG) == problems


def test_a_document_that_does_not_parse_gives_named_field_problems() -> None:
    raw = canonical_journey("demo").model_dump(mode="json")
    index = {node["id"]: n for n, node in enumerate(raw["nodes"])}
    raw["nodes"][index["wait_30m"]]["duration"] = "soon"
    raw["nodes"][index["wait_group_join"]].pop("event_type")
    raw["nodes"].append({"id": "mystery"})
    raw["edges"][0] = {"source": "entry"}
    definition, problems = parse_and_validate(raw, CATALOG)
    assert definition is None
    assert {(problem.code, problem.node_id, problem.path) for problem in problems} == {
        ("invalid_field", "wait_30m", "duration"),
        ("invalid_field", "wait_group_join", "event_type"),
        ("invalid_field", "mystery", None),
        ("invalid_field", None, "edges[0].target"),
    }
    assert all(problem.message for problem in problems)


def test_a_document_that_parses_is_validated_too() -> None:
    raw = canonical_journey("demo").model_dump(mode="json")
    definition, problems = parse_and_validate(raw, CATALOG)
    assert definition == canonical_journey("demo")
    assert problems == []
    raw["settings"]["timezone"] = "Atlantis/Capital"
    definition, problems = parse_and_validate(raw, CATALOG)
    assert definition is not None
    assert codes(problems) == ["invalid_timezone"]


# --- random mutations never raise ----------------------------------------------------------------

BASE = canonical_journey("demo")
IDS = [node.id for node in BASE.nodes]
ids = st.sampled_from([*IDS, "ghost", "entry"]) | st.text(max_size=8)
labels = st.sampled_from(["next", "matched", "timed_out", "else", "failed", "bogus"]) | st.text(
    max_size=6
)
durations = st.timedeltas(min_value=timedelta(days=-1000), max_value=timedelta(days=1000))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
rule_ids = st.lists(st.sampled_from(["a", "b", "else", "next"]), min_size=1, max_size=3)


def _replacements(node_id: str) -> st.SearchStrategy[Node]:
    """Another kind of node under the same id (constructed unchecked, as a bad document might)."""
    fixed: list[Node] = [
        EntryNode.model_construct(id=node_id, reentry=ReentryPolicy(), kind="entry"),
        ExitNode(id=node_id),
        GoalNode(id=node_id, event_type="order.paid"),
        WaitNode(id=node_id),
        UpdateProfileNode(id=node_id, add_tags=["a"], remove_tags=["a"]),
    ]

    def branch(rules: list[str]) -> Node:
        return BranchNode.model_construct(
            id=node_id,
            kind="branch",
            rules=[BranchRule.model_construct(id=rule, conditions=[]) for rule in rules],
        )

    return st.sampled_from(fixed) | rule_ids.map(branch)


@st.composite
def mutated(draw: st.DrawFn) -> JourneyDefinition:
    nodes = list(BASE.nodes)
    edges = list(BASE.edges)
    journey_settings = BASE.settings
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(
            st.sampled_from(
                [
                    "drop_node",
                    "drop_edge",
                    "edge",
                    "dup_node",
                    "replace",
                    "timing",
                    "action",
                    "settings",
                ]
            )
        )
        if kind == "drop_node" and nodes:
            nodes.pop(draw(st.integers(0, len(nodes) - 1)))
        elif kind == "drop_edge" and edges:
            edges.pop(draw(st.integers(0, len(edges) - 1)))
        elif kind == "edge":
            edge = Edge.model_construct(source=draw(ids), target=draw(ids), label=draw(labels))
            replace_one: bool = draw(st.booleans())
            if edges and replace_one:
                edges[draw(st.integers(0, len(edges) - 1))] = edge
            else:
                edges.append(edge)
        elif kind == "dup_node" and nodes:
            nodes.append(draw(st.sampled_from(nodes)))
        elif kind == "replace" and nodes:
            index = draw(st.integers(0, len(nodes) - 1))
            nodes[index] = draw(_replacements(nodes[index].id))
        elif kind == "timing" and nodes:
            index = draw(st.integers(0, len(nodes) - 1))
            node = nodes[index]
            if isinstance(node, WaitNode):
                nodes[index] = node.model_copy(update={"duration": draw(durations)})
            elif isinstance(node, WaitForEventNode):
                nodes[index] = node.model_copy(update={"timeout": draw(durations)})
        elif kind == "action" and nodes:
            index = draw(st.integers(0, len(nodes) - 1))
            node = nodes[index]
            if isinstance(node, ActionNode):
                update = {
                    "channel": draw(st.sampled_from(["sandbox", "email"]) | st.text(max_size=5)),
                    "action": draw(st.sampled_from(["send_message", "noop"]) | st.text(max_size=5)),
                    "params": draw(st.dictionaries(st.text(max_size=6), json_values, max_size=4)),
                }
                nodes[index] = node.model_copy(update=update)
        elif kind == "settings":
            journey_settings = journey_settings.model_copy(
                update={"timezone": draw(st.text(max_size=20))}
            )
    return JourneyDefinition.model_construct(nodes=nodes, edges=edges, settings=journey_settings)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_random_mutations_of_a_valid_journey_give_problems_never_exceptions(
    definition: JourneyDefinition,
) -> None:
    problems = validate_journey(definition, CATALOG)
    assert all(isinstance(problem, Problem) and problem.message for problem in problems)
    assert validate_journey(definition, CATALOG) == problems


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = BASE.model_dump(mode="json")
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        section = draw(st.sampled_from(["nodes", "edges"]))
        items = raw[section]
        item = items[draw(st.integers(0, len(items) - 1))]
        key = draw(st.sampled_from(sorted(item)) | st.text(max_size=5))
        item[key] = draw(json_values | st.sampled_from([*IDS, "next", "matched", "else"]))
    return raw


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_random_changes_to_a_document_give_problems_never_exceptions(raw: dict[str, Any]) -> None:
    definition, problems = parse_and_validate(raw, CATALOG)
    assert definition is not None or problems
    assert all(problem.message for problem in problems)
