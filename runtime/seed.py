"""The demo tenant: a tenant, an admin API key and the two template journeys, created once.

Each demo journey (the canonical one, and the one from a Douyin lead) is published from the
current template; when a data directory holds an older one, the current template is published
as its next version. Their real-timing twins are left as drafts to look at.

The raw API key is shown only at creation, so it is kept in `DATA_DIR/demo-api-key` (mode 0600)
for later runs and for `omnijourney demo` to read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.errors import NotFoundError
from domain.journey import JourneyDefinition
from domain.templates import Scale, canonical_journey, lead_journey
from domain.tenants import Tenant
from store.database import Store

log = logging.getLogger(__name__)

DEMO_TENANT = "demo"
DEMO_JOURNEY = "douyin-wecom-repurchase-demo"
REAL_JOURNEY = "douyin-wecom-repurchase"
LEAD_DEMO_JOURNEY = "douyin-lead-wecom-demo"
LEAD_REAL_JOURNEY = "douyin-lead-wecom"

# (demo journey id, real twin id, title, template)
_JOURNEYS: list[tuple[str, str, str, Callable[[Scale], JourneyDefinition]]] = [
    (DEMO_JOURNEY, REAL_JOURNEY, "Douyin ad → WeCom → group → repurchase", canonical_journey),
    (
        LEAD_DEMO_JOURNEY,
        LEAD_REAL_JOURNEY,
        "Douyin lead → SMS invite → WeCom → group → repurchase",
        lead_journey,
    ),
]


@dataclass(frozen=True)
class DemoSeed:
    tenant_id: str
    api_key: str
    journey_id: str
    lead_journey_id: str = LEAD_DEMO_JOURNEY


def key_file(data_dir: Path) -> Path:
    return data_dir / "demo-api-key"


async def seed_demo(store: Store, data_dir: Path) -> DemoSeed:
    """Create what is missing of the demo tenant; idempotent across restarts."""
    now = datetime.now(UTC)
    if await store.tenants.find(DEMO_TENANT) is None:
        await store.tenants.create(Tenant(id=DEMO_TENANT, name="Demo brand", created_at=now))
    api_key = await _demo_key(store, data_dir, now)
    for demo_id, real_id, title, build in _JOURNEYS:
        await _seed_journey(store, demo_id, real_id, title, build, now)
    return DemoSeed(tenant_id=DEMO_TENANT, api_key=api_key, journey_id=DEMO_JOURNEY)


async def _seed_journey(
    store: Store,
    demo_id: str,
    real_id: str,
    title: str,
    build: Callable[[Scale], JourneyDefinition],
    now: datetime,
) -> None:
    demo = build("demo")
    try:
        journey = await store.journeys.get(DEMO_TENANT, demo_id)
    except NotFoundError:
        await store.journeys.create(
            DEMO_TENANT, f"{title} (demo: 1 day = 2 s)", now, draft=demo, journey_id=demo_id
        )
        await store.journeys.publish(DEMO_TENANT, demo_id, demo, demo.listened_event_types(), now)
        await store.journeys.create(
            DEMO_TENANT, title, now, draft=build("real"), journey_id=real_id
        )
        return
    # A data directory from an older release runs the demo journey of that release; publish
    # the current template as a new version (running enrollments keep theirs).
    if journey.live_version is not None:
        live = await store.journeys.get_version(DEMO_TENANT, demo_id, journey.live_version)
        if live.definition == demo:
            return
    await store.journeys.update_draft(DEMO_TENANT, demo_id, journey.revision, now, draft=demo)
    version = await store.journeys.publish(
        DEMO_TENANT, demo_id, demo, demo.listened_event_types(), now
    )
    log.info("published the current %s as version %d", demo_id, version)


async def _demo_key(store: Store, data_dir: Path, now: datetime) -> str:
    path = key_file(data_dir)
    if path.exists():
        raw = path.read_text(encoding="utf-8").strip()
        if await store.tenants.authenticate(raw) is not None:
            return raw
    _, raw = await store.tenants.create_api_key(DEMO_TENANT, "demo admin", "admin", now)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(raw + "\n")
    return raw
