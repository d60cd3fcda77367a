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

Modules: `checker` (one run: structure and graph checks), `nodes` (each node kind's own fields,
settings), `graph` (closure, strongly connected components), `problems` (`Problem`, wording).
"""

from domain.validation.checker import parse_and_validate, validate_journey
from domain.validation.nodes import MAX_WAIT, NAMED_PARAMS_PROBLEMS
from domain.validation.problems import ActionCatalog, Problem

__all__ = [
    "MAX_WAIT",
    "NAMED_PARAMS_PROBLEMS",
    "ActionCatalog",
    "Problem",
    "parse_and_validate",
    "validate_journey",
]
