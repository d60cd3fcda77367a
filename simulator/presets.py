"""Ready-made cohorts and options: the canonical journey's (`domain.templates.canonical_journey`)
customers as a plausible event model, used by `bench/simulate.py`, the demo and the tests."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.customers import EXTERNAL_USERID, PHONE, WECHAT_OPENID
from domain.events import ORDER_PAID
from domain.templates.canonical import DEFAULT_HOOK
from domain.wecom_events import (
    CONTACT_ADDED,
    CONTACT_DELETED_BY_CUSTOMER,
    GROUP_JOINED,
    MASS_MESSAGE_RESULT,
)
from simulator.models import (
    ActionReaction,
    Delay,
    EventModel,
    FactMix,
    IdentityShare,
    PropertyChoice,
    SimulationOptions,
    SyntheticCohort,
)

CANONICAL_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def canonical_cohort(size: int, seed: int = 7, arrival_days: float = 30.0) -> SyntheticCohort:
    """Customers scanning the Douyin ad's code over `arrival_days`: 60% join the group (most
    within a day), 35% buy (median 6 days in, half of buyers again about every 18 days), 4%
    delete the staff contact; all are WeCom contacts, 70% left a phone, 40% follow the OA."""
    return SyntheticCohort(
        size=size,
        seed=seed,
        start=CANONICAL_START,
        arrival_days=arrival_days,
        arrival="front_loaded",
        entry_event_type=CONTACT_ADDED,
        entry_properties={"state": DEFAULT_HOOK},
        events=[
            EventModel(
                type=GROUP_JOINED,
                probability=0.6,
                delay=Delay(kind="lognormal", hours=10, sigma=1.2, max_hours=24 * 6),
            ),
            EventModel(
                type=ORDER_PAID,
                probability=0.35,
                delay=Delay(kind="lognormal", hours=24 * 6, sigma=0.8),
                properties={"total": 199},
                repeat_probability=0.5,
                max_repeats=6,
                repeat_delay=Delay(kind="lognormal", hours=24 * 18, sigma=0.4),
            ),
            EventModel(
                type=CONTACT_DELETED_BY_CUSTOMER,
                probability=0.04,
                delay=Delay(kind="exponential", hours=24 * 20),
            ),
        ],
        facts=FactMix(
            identities=[
                IdentityShare(kind=EXTERNAL_USERID, probability=1.0),
                IdentityShare(kind=PHONE, probability=0.7),
                IdentityShare(kind=WECHAT_OPENID, probability=0.4),
            ]
        ),
    )


def canonical_options(days: int = 90, workers: int = 1) -> SimulationOptions:
    """90 days from the cohort's start; WeCom answers each mass-message task within hours
    (85% sent, 10% not a friend, 5% over WeCom's own limit)."""
    return SimulationOptions(
        days=days,
        start=CANONICAL_START,
        workers=workers,
        reactions=[
            ActionReaction(
                channel="wecom",
                action="mass_message",
                event_type=MASS_MESSAGE_RESULT,
                delay=Delay(kind="uniform", min_hours=0.2, max_hours=3.5),
                choices=[
                    PropertyChoice(weight=85, properties={"status": "sent"}),
                    PropertyChoice(weight=10, properties={"status": "not_friend"}),
                    PropertyChoice(weight=5, properties={"status": "limit_reached"}),
                ],
            )
        ],
    )
