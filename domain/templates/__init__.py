"""Journey templates designers start from, led by the canonical private-domain journey.

- `canonical`: "Douyin ad → WeCom → group → repurchase" (a WeCom channel code as the hook).
- `lead`: "Douyin lead → SMS invite → WeCom → group → repurchase" (a lead form as the hook).
- `parts`: the time scales and the channel actions both are built from.

Each exists in two time scales with the same nodes and edges: `real` and `demo` (a day lasts two
seconds) so the whole journey can be watched live (`make demo`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.journey import JourneyDefinition
from domain.templates.canonical import (
    DEFAULT_GROUP_CODE_URL,
    DEFAULT_GROUP_OWNER,
    DEFAULT_HOOK,
    DEMO_RESULT_WAIT,
    MEMBER_DAY_TEMPLATE,
    RESULT_WAIT,
    canonical_journey,
)
from domain.templates.lead import DEFAULT_WECOM_LINK, lead_journey
from domain.templates.parts import DEMO_SECONDS_PER_DAY, SEND_HOUR, Scale

__all__ = [
    "DEFAULT_GROUP_CODE_URL",
    "DEFAULT_GROUP_OWNER",
    "DEFAULT_HOOK",
    "DEFAULT_WECOM_LINK",
    "DEMO_RESULT_WAIT",
    "DEMO_SECONDS_PER_DAY",
    "MEMBER_DAY_TEMPLATE",
    "RESULT_WAIT",
    "SEND_HOUR",
    "TEMPLATES",
    "JourneyTemplate",
    "Scale",
    "canonical_journey",
    "lead_journey",
]


@dataclass(frozen=True)
class JourneyTemplate:
    """A journey designers can start from: listed by the API, built on demand."""

    key: str
    title: str
    description: str
    build: Callable[[], JourneyDefinition]


def _canonical_real() -> JourneyDefinition:
    return canonical_journey("real")


def _canonical_demo() -> JourneyDefinition:
    return canonical_journey("demo")


_DESCRIPTION = (
    "Customers who add a WeCom contact through the Douyin ad's channel code are welcomed within "
    "WeCom's 20-second window with a first-order coupon and the member group's live code, "
    "invited to the group by a mass-message task (one reminder, then they leave), onboarded on "
    "days 1, 3 and 7 (a group message, a coupon task that falls back to SMS unless WeCom reports "
    "it sent, an Official Account member-day reminder to followers), and after their first order "
    "enter a repurchase loop: a "
    "replenishment task every 21 days while they keep buying, an SMS win-back after 14 quiet "
    "days. Deleting the contact ends the journey."
)

_LEAD_DESCRIPTION = (
    "Douyin lead forms (lead.created, with the customer's phone and the ad as the hook) get an "
    "SMS inviting them to add the brand's WeCom staff; once the staff member records the phone "
    "on the new contact the two are one customer, welcomed inside WeCom's 20-second window with "
    "the group live code. One SMS reminder after two days; joiners get the day-1 group message; "
    "buyers enter the repurchase loop with an SMS win-back."
)


def _lead_real() -> JourneyDefinition:
    return lead_journey("real")


def _lead_demo() -> JourneyDefinition:
    return lead_journey("demo")


TEMPLATES: Mapping[str, JourneyTemplate] = MappingProxyType(
    {
        template.key: template
        for template in (
            JourneyTemplate(
                key="douyin-wecom-repurchase",
                title="Douyin ad → WeCom → group → repurchase",
                description=_DESCRIPTION,
                build=_canonical_real,
            ),
            JourneyTemplate(
                key="douyin-wecom-repurchase-demo",
                title="Douyin ad → WeCom → group → repurchase (demo timing)",
                description=_DESCRIPTION
                + " Demo timing: each day lasts two seconds, with no quiet hours.",
                build=_canonical_demo,
            ),
            JourneyTemplate(
                key="douyin-lead-wecom",
                title="Douyin lead → SMS invite → WeCom → group → repurchase",
                description=_LEAD_DESCRIPTION,
                build=_lead_real,
            ),
            JourneyTemplate(
                key="douyin-lead-wecom-demo",
                title="Douyin lead → SMS invite → WeCom → group → repurchase (demo timing)",
                description=_LEAD_DESCRIPTION
                + " Demo timing: each day lasts two seconds, with no quiet hours.",
                build=_lead_demo,
            ),
        )
    }
)
"""Templates by key, in display order."""
