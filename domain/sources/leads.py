"""Lead pushes (线索推送 / 留资推送) → `lead.created` events.

A lead is a form a person filled in on an ad's landing page. Each becomes one `lead.created`
event: the `phone` identity (normalised like every identity, `domain.customers`), the person's
answers as properties (`name`, `city`, `gender`, `form`: every field as it was labelled), and the
ad that brought them as attribution: `properties.attribution` (`platform`, `advertiser_id`,
`campaign_id`, `ad_id`, `creative_id`, the names where given) and `properties.state`, the lead's
*hook*: `douyin:<ad id>` / `xiaohongshu:<creative id>` (else the campaign's, else the account's),
noted as the customer's first-touch hook before the event is routed and usable in a `hook` entry
trigger (`eventType: "lead.created"`) or an event trigger `where state = ...`.

The event id is the platform's lead id (`douyin:<clue_id>`, `xiaohongshu:<leads_id>`), so a push
the platform retries is stored once.

Douyin: the envelope is the Douyin Open Platform webhook's (developer.open-douyin.com, "Webhooks
概述" and the local-life "WebHooks接入" page): `{"event", "client_key", "content", "log_id"}`,
`content` a JSON string (an object is taken too), a `Msg-Id` header, and the URL check
`{"event": "verify_webhook", "content": {"challenge": n}}` answered `{"challenge": n}`. The clue
fields inside `content` were not findable in a published page; they are read by the names Ocean
Engine's clue API uses (巨量引擎 线索): `clue_id`, `telephone`, `name`, `gender`, `province_name`,
`city_name`, `advertiser_id`, `advertiser_name`, `ad_id` (or `promotion_id`), `ad_name`,
`campaign_id` (or `project_id`), `creative_id` (or `content_id`), `create_time`
(`YYYY-MM-DD HH:MM:SS`, Beijing time); a content without `clue_id` is not a lead and is ignored.

Xiaohongshu: the body as the 聚光 landing-page data push publishes it: `{"data": {...},
"timestamp", "source"}`, `data` holding `leads_id`, `account_id`, `account_name`, `campaign_id`,
`campaign_name`, `unit_id`, `unit_name`, `creative_id`, `landing_page_id`, `submitted_time`
(`YYYY-MM-DD HH:MM:SS`, GMT+8) and the answers as `data: [{"label", "value"}]`; the phone is the
answer labelled 手机/电话/phone/mobile, the name 姓名/name, the city 城市/city.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.customers import PHONE
from domain.sources.fields import beijing_time, text

LEAD_CREATED = "lead.created"
"""A person left their contact on an ad's form (a Douyin or Xiaohongshu lead push)."""

DOUYIN_VERIFY_EVENT = "verify_webhook"


class NotALeadError(ValueError):
    """The push cannot be read as a lead (the message says why; nothing of it is stored)."""


def lead_hook(platform: str, *candidates: str | None) -> str:
    """The hook a lead is attributed to: `<platform>:<the first id given>`, else the platform."""
    for candidate in candidates:
        if candidate:
            return f"{platform}:{candidate}"
    return platform


def _lead_event(
    event_id: str,
    phone: str,
    occurred_at: datetime,
    answers: dict[str, str | None],
    attribution: dict[str, str | None],
    hook: str,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {k: v for k, v in answers.items() if v is not None}
    properties["attribution"] = {k: v for k, v in attribution.items() if v is not None}
    properties["state"] = hook
    if form:
        properties["form"] = form
    return {
        "id": event_id,
        "type": LEAD_CREATED,
        "identity": {PHONE: phone},
        "timestamp": occurred_at.isoformat(),
        "properties": properties,
    }


def douyin_challenge(envelope: Mapping[str, Any]) -> Any | None:
    """The challenge to echo when the push is Douyin's URL check, else None."""
    if envelope.get("event") != DOUYIN_VERIFY_EVENT:
        return None
    content = envelope.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return None
    return content.get("challenge") if isinstance(content, Mapping) else None


def douyin_leads(envelope: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The `lead.created` events of a Douyin push (none when it is not a clue);
    `NotALeadError` when it is a clue that cannot be read."""
    content = envelope.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError as exc:
            raise NotALeadError("content is not JSON") from exc
    if not isinstance(content, Mapping):
        raise NotALeadError("content must be a JSON object")
    clues = content.get("clues")
    items = clues if isinstance(clues, list) else [content]
    events = []
    for clue in items:
        if not isinstance(clue, Mapping) or text(clue.get("clue_id")) is None:
            continue
        clue_id = text(clue.get("clue_id"))
        phone = text(clue.get("telephone")) or text(clue.get("phone"))
        if phone is None:
            raise NotALeadError(f"clue {clue_id} has no telephone")
        ad_id = text(clue.get("ad_id")) or text(clue.get("promotion_id"))
        campaign_id = text(clue.get("campaign_id")) or text(clue.get("project_id"))
        creative_id = text(clue.get("creative_id")) or text(clue.get("content_id"))
        advertiser_id = text(clue.get("advertiser_id"))
        events.append(
            _lead_event(
                f"douyin:{clue_id}",
                phone,
                beijing_time(clue.get("create_time"), now),
                {
                    "lead_id": clue_id,
                    "name": text(clue.get("name")),
                    "gender": text(clue.get("gender")),
                    "province": text(clue.get("province_name")),
                    "city": text(clue.get("city_name")),
                },
                {
                    "platform": "douyin",
                    "advertiser_id": advertiser_id,
                    "advertiser_name": text(clue.get("advertiser_name")),
                    "campaign_id": campaign_id,
                    "ad_id": ad_id,
                    "ad_name": text(clue.get("ad_name")),
                    "creative_id": creative_id,
                },
                lead_hook("douyin", ad_id, campaign_id, advertiser_id),
            )
        )
    return events


_PHONE_LABELS = ("手机", "电话", "phone", "mobile", "tel")
_NAME_LABELS = ("姓名", "名字", "name")
_CITY_LABELS = ("城市", "city")


def _answer(form: Mapping[str, str], labels: tuple[str, ...]) -> str | None:
    for label, value in form.items():
        if any(word in label.lower() for word in labels):
            return value
    return None


def xiaohongshu_leads(body: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The `lead.created` event of a Xiaohongshu push; `NotALeadError` when it is none."""
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise NotALeadError("data must be a JSON object")
    leads_id = text(data.get("leads_id"))
    if leads_id is None:
        raise NotALeadError("data.leads_id is missing")
    form: dict[str, str] = {}
    answers = data.get("data")
    for answer in answers if isinstance(answers, list) else []:
        if isinstance(answer, Mapping):
            label, value = text(answer.get("label")), text(answer.get("value"))
            if label is not None and value is not None:
                form[label] = value
    phone = _answer(form, _PHONE_LABELS)
    if phone is None:
        raise NotALeadError(f"lead {leads_id} has no phone answer")
    creative_id = text(data.get("creative_id"))
    campaign_id = text(data.get("campaign_id"))
    account_id = text(data.get("account_id"))
    fallback = beijing_time(body.get("timestamp"), now)
    event = _lead_event(
        f"xiaohongshu:{leads_id}",
        phone,
        beijing_time(data.get("submitted_time"), fallback),
        {
            "lead_id": leads_id,
            "name": _answer(form, _NAME_LABELS),
            "city": _answer(form, _CITY_LABELS),
        },
        {
            "platform": "xiaohongshu",
            "advertiser_id": account_id,
            "advertiser_name": text(data.get("account_name")),
            "campaign_id": campaign_id,
            "campaign_name": text(data.get("campaign_name")),
            "ad_id": text(data.get("unit_id")),
            "ad_name": text(data.get("unit_name")),
            "creative_id": creative_id,
            "landing_page_id": text(data.get("landing_page_id")),
        },
        lead_hook("xiaohongshu", creative_id, campaign_id, account_id),
        form,
    )
    return [event]
