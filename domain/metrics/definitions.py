"""Every metric the private-domain field runs on, defined once (the project's, from METRICS.md).

A `Definition` is read by both sides: the domain's rate properties take it as their docstring
(`defined`) and the GraphQL schema's descriptions are built from it, so a console showing the
schema as help says what the arithmetic does. Formulas are written in the words of the counts
they divide, which are the names of the fields beside them. Every metric is for a tenant over
the half-open range [from, to), cut by audience (first-touch hook), journey or channel; every
rate is a safe division, null (None) when its denominator is 0, never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from domain.events import ORDER_PAID, ORDER_REFUNDED
from domain.wecom_events import CONTACT_ADDED
from domain.wecom_events import CONTACT_DELETED_BY_CUSTOMER as CONTACT_DELETED

__all__ = ["CONTACT_ADDED", "CONTACT_DELETED", "ORDER_PAID", "ORDER_REFUNDED"]
RETENTION_DAYS: tuple[int, ...] = (7, 30, 90)
RETENTION_WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class Definition:
    """One metric: its name, its formula, and what else a reader must know."""

    name: str
    formula: str
    detail: str = ""
    fraction: bool = False
    """A share, from 0 to 1."""
    denominator: str | None = None
    """The count it divides by, when it is a division (so it is null when that count is 0)."""

    @property
    def description(self) -> str:
        """`name: formula; a fraction from 0 to 1, null when … is 0. detail`."""
        text = f"{self.name}: {self.formula}"
        if self.fraction:
            text += "; a fraction from 0 to 1"
        if self.denominator is not None:
            text += f"{',' if self.fraction else ';'} null when {self.denominator} is 0"
        return f"{text}. {self.detail}".rstrip()


F = TypeVar("F", bound=Callable[..., object])


def defined(definition: Definition) -> Callable[[F], F]:
    """Give the decorated function `definition`'s description as its docstring (goes under
    `@property`)."""

    def document(function: F) -> F:
        function.__doc__ = definition.description
        return function

    return document


# --- cohorts: who a metric is about ("entered") -------------------------------------------------

FIRST_TOUCH_COHORT = Definition(
    "Cohort by first touch",
    "customers whose first touch (the customer record's creation) fell in [from, to), through "
    "the hook when one is given, entering at their first touch",
)
JOURNEY_COHORT = Definition(
    "Cohort of a journey",
    "customers with an enrollment in the journey (and version) started in [from, to), entering "
    "at their earliest such start",
)
CHANNEL_COHORT = Definition(
    "Cohort of a channel",
    "customers with a successful delivery on the channel created in [from, to), entering at "
    "the first one",
)

# --- counts the rates divide ---------------------------------------------------------------------

ENTERED = Definition("Entered", "the customers who entered (the cohort of the object holding them)")
BUYERS = Definition(
    "Buyers",
    "cohort customers with ≥ 1 paid order after entering (fully refunded ones not counted)",
)
REPEAT_BUYERS = Definition(
    "Repeat buyers",
    "cohort customers with ≥ 2 paid orders after entering (fully refunded ones not counted)",
)
ORDERS = Definition("Orders", "the paid orders of the cohort, less those refunded in full")
REVENUE = Definition("Revenue", "the revenue of those paid orders, net of their refunds")
STARTED = Definition("Started", "enrollments started in [from, to)")
CONVERTED = Definition(
    "Converted", "of the enrollments started, those that reached a goal (at any time so far)"
)
ELIGIBLE = Definition("Eligible", "cohort customers whose day N has ended")
RETAINED = Definition("Retained", "eligible customers active and reachable on day N")
VISITS = Definition("Entered", "transitions into the node, its visits (loops count each time)")
NODE_ENROLLMENTS = Definition("Enrollments", "distinct enrollments that entered the node")
NODE_CONVERTED = Definition(
    "Converted",
    "enrollments that entered the node and reached a goal at or after first entering it",
)
CUSTOMERS_REACHED = Definition(
    "Customers reached", "distinct customers with at least one successful delivery"
)

# --- commerce levers ---------------------------------------------------------------------------

PAID_ORDER = Definition(
    "Paid order",
    f"an `{ORDER_PAID}` event of a cohort customer after they entered and before `to`",
    "Its revenue is `properties.total`, else `properties.amount` (a number or a numeric "
    "string; anything else, or a negative amount, counts 0), less the `properties.amount` of "
    f"each `{ORDER_REFUNDED}` event before `to` with the same `properties.order_id` (never "
    "below 0). Refunded in full (a refund with `properties.full` true, or refunds adding up to "
    "the revenue), it is no longer a paid order: not counted in orders, buyers or repeat "
    "buyers.",
)
CONVERSION_RATE = Definition(
    "Conversion rate", "buyers ÷ entered", fraction=True, denominator="entered"
)
REPURCHASE_RATE = Definition(
    "Repurchase rate (复购率)", "repeat buyers ÷ buyers", fraction=True, denominator="buyers"
)
PURCHASE_FREQUENCY = Definition(
    "Purchase frequency (复购频次)", "orders ÷ buyers", denominator="buyers"
)
AOV = Definition(
    "AOV (客单价)",
    "revenue ÷ orders",
    "Both net of refunds: a partial refund lowers the revenue, a full one removes the order.",
    denominator="orders",
)
ARPU = Definition(
    "ARPU",
    "revenue ÷ entered = conversion rate * purchase frequency * AOV",
    "The identity holds because all three use the same cohort and the same orders; 0 when "
    "nobody bought.",
    denominator="entered",
)

# --- journeys ----------------------------------------------------------------------------------

JOURNEY_CONVERSION_RATE = Definition(
    "Journey conversion rate",
    "converted ÷ started, over the enrollments started in [from, to) (converted: those that "
    "reached a goal, at any time so far)",
    fraction=True,
    denominator="started",
)
MEDIAN_TIME_TO_CONVERT = Definition(
    "Median time to convert",
    "the median of (converted at - started at) over the converted enrollments",
    "The mean of the middle two for an even count; null when none converted.",
)
MEAN_TIME_TO_CONVERT = Definition(
    "Mean time to convert",
    "the mean of (converted at - started at) over the converted enrollments",
    "Null when none converted.",
)

# --- retention and reach -----------------------------------------------------------------------

_DAYS = ", ".join(str(day) for day in RETENTION_DAYS)
RETENTION = Definition(
    f"Day-N retention (N = {_DAYS})",
    "of the customers who entered in one ISO week (from Monday 00:00 UTC), the share active on "
    "day N: at least one event of their own (any event but a contact deletion) in days "
    f"N-{RETENTION_WINDOW_DAYS - 1}..N after entering, and still reachable (their last WeCom "
    f"contact event before the end of day N is not `{CONTACT_DELETED}`)",
    "Only customers whose day N has ended count (`eligible`).",
)
RETENTION_RATE = Definition(
    "Day-N retention rate", "retained ÷ eligible", fraction=True, denominator="eligible"
)
PRIVATE_DOMAIN_USERS = Definition(
    "Private-domain users",
    "customers first touched before `to` with a reachable identity at `to`: a WeCom contact "
    "whose last contact event is not a deletion, an OpenID (Official Account follower or "
    "mini-program user), or a phone with SMS consent",
)

# --- funnel ------------------------------------------------------------------------------------

FUNNEL = Definition(
    "Funnel per node",
    "over the enrollments started in [from, to), for each node: entered (visits; loops count "
    "each time) and distinct enrollments, proceeded (by edge label and target), exited (by "
    "reason), and converted (enrollments that reached a goal at or after first entering it)",
    "A visit ends in exactly one of proceeded, exited or still there, so "
    "proceeded + exited ≤ entered.",
)
REACH_RATE = Definition(
    "Reach rate",
    "enrollments ÷ started (the share of the funnel's enrollments that reached the node)",
    fraction=True,
    denominator="started",
)
PROCEED_RATE = Definition(
    "Proceed rate", "proceeded ÷ entered (visits)", fraction=True, denominator="entered"
)
EXIT_RATE = Definition(
    "Exit rate", "exited ÷ entered (visits)", fraction=True, denominator="entered"
)
NODE_CONVERSION_RATE = Definition(
    "Node conversion rate", "converted ÷ enrollments", fraction=True, denominator="enrollments"
)
SHARE_OF_VISITS = Definition(
    "Share of visits",
    "count ÷ the node's entered (visits)",
    fraction=True,
    denominator="the node's entered",
)

# --- deliveries --------------------------------------------------------------------------------

DELIVERY_SUCCESS_RATE = Definition(
    "Delivery success rate", "succeeded ÷ total", fraction=True, denominator="total"
)

# --- experiments -------------------------------------------------------------------------------

VARIANT_ENROLLMENTS = Definition(
    "Variant enrollments",
    "enrollments started in [from, to) that took this variant (the first time through the split)",
)
VARIANT_CONVERTED = Definition(
    "Variant conversions", "those enrollments that converted after taking the variant"
)
VARIANT_REVENUE = Definition(
    "Variant revenue",
    "the paid orders of those enrollments' customers from taking the variant to `to` (refunds "
    "not deducted)",
)
VARIANT_CONVERSION_RATE = Definition(
    "Variant conversion rate",
    "variant conversions ÷ variant enrollments",
    fraction=True,
    denominator="variant enrollments",
)
REVENUE_PER_ENROLLMENT = Definition(
    "Revenue per enrollment",
    "variant revenue ÷ variant enrollments",
    denominator="variant enrollments",
)
LIFT = Definition(
    "Lift",
    "(variant conversion rate - the control's) ÷ the control's",
    detail="The control is the holdout variant, else the first variant; null for the control.",
    denominator="the control's conversion rate",
)
P_VALUE = Definition(
    "p-value",
    "two-sided p-value of the difference between the variant's conversion rate and the "
    "control's (pooled two-proportion z-test)",
    detail="Below 0.05 is the usual bar for a real difference; null for the control, or when "
    "either side has no enrollments or every enrollment did the same.",
)
