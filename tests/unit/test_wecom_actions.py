"""WeCom's pure rules: allowance periods, credentials' secrecy, action params, frequency limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr, ValidationError

from connectors.errors import InvalidActionParamsError, TransientChannelError
from connectors.wecom.connector import WeComConnector
from connectors.wecom.params import (
    MassMessageParams,
    TagParams,
    TransferParams,
    WelcomeParams,
    attachment_json,
)
from connectors.wecom.ratelimit import RateLimiter
from domain.channels import (
    WeComCredentials,
    allowance_for,
    check_join_way,
    check_state,
    new_callback_id,
)
from domain.errors import InvalidInputError

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def credentials(**changes: object) -> WeComCredentials:
    data: dict[str, object] = {
        "tenant_id": "acme",
        "corp_id": "ww-acme",
        "secret": "app-secret-value",
        "callback_token": "callback-token-value",
        "encoding_aes_key": AES_KEY,
        "callback_id": new_callback_id(),
    }
    data.update(changes)
    return WeComCredentials.model_validate(data)


# -- allowances ----------------------------------------------------------------------------


def test_monthly_allowance_is_the_number_of_days_in_the_month() -> None:
    assert allowance_for("per_month", datetime(2026, 11, 15, 3, tzinfo=UTC)) == ("2026-11", 30)
    assert allowance_for("per_month", datetime(2026, 2, 10, tzinfo=UTC)) == ("2026-02", 28)
    assert allowance_for("per_month", datetime(2028, 2, 10, tzinfo=UTC)) == ("2028-02", 29)
    assert allowance_for("per_month", datetime(2026, 1, 31, tzinfo=UTC)) == ("2026-01", 31)


def test_weekly_allowance_is_seven_per_iso_week() -> None:
    assert allowance_for("per_week_7", datetime(2026, 11, 18, tzinfo=UTC)) == ("2026-W47", 7)
    # 2027-01-01 is a Friday of ISO week 53 of 2026.
    assert allowance_for("per_week_7", datetime(2027, 1, 1, 6, tzinfo=UTC)) == ("2026-W53", 7)


def test_daily_allowance_is_one_per_day() -> None:
    assert allowance_for("per_day_1", datetime(2026, 11, 15, 3, tzinfo=UTC)) == ("2026-11-15", 1)


def test_allowance_periods_follow_china_standard_time() -> None:
    # 17:00 UTC on 31 October is 01:00 on 1 November in Beijing.
    late = datetime(2026, 10, 31, 17, tzinfo=UTC)
    assert allowance_for("per_month", late) == ("2026-11", 30)
    assert allowance_for("per_day_1", late) == ("2026-11-01", 1)
    same_instant = late.astimezone(timezone(timedelta(hours=-5)))
    assert allowance_for("per_day_1", same_instant) == ("2026-11-01", 1)


def test_allowance_needs_an_aware_time() -> None:
    with pytest.raises(ValueError):
        allowance_for("per_month", datetime(2026, 11, 15))


# -- credentials ---------------------------------------------------------------------------


def test_credentials_never_show_their_secrets() -> None:
    found = credentials()

    shown = repr(found) + str(found) + str(found.public()) + str(found.model_dump())

    for secret in ("app-secret-value", "callback-token-value", AES_KEY):
        assert secret not in shown
    assert found.public()["secret"] == "set"
    assert found.public()["corp_id"] == "ww-acme"


def test_credentials_reject_a_malformed_aes_key_without_quoting_it() -> None:
    with pytest.raises(ValidationError) as caught:
        credentials(encoding_aes_key="short-secret-key")

    assert "short-secret-key" not in str(caught.value.errors(include_input=False))


def test_credentials_base_url_gets_a_trailing_slash() -> None:
    assert credentials(base_url="http://127.0.0.1:9/cgi-bin").base_url.endswith("/cgi-bin/")
    with pytest.raises(ValidationError):
        credentials(base_url="ftp://example.com/")


def test_credentials_secrets_are_secret_strings() -> None:
    assert isinstance(credentials().secret, SecretStr)


# -- codes ---------------------------------------------------------------------------------


def test_state_longer_than_thirty_characters_is_refused() -> None:
    assert check_state("douyin-ad-spring") == "douyin-ad-spring"
    with pytest.raises(InvalidInputError):
        check_state("x" * 31)
    with pytest.raises(InvalidInputError):
        check_state("has space")


def test_join_way_takes_one_to_five_groups_and_a_short_room_name() -> None:
    check_join_way(["wr1"] * 5, "VIP group")
    with pytest.raises(InvalidInputError):
        check_join_way(["wr1"] * 6, None)
    with pytest.raises(InvalidInputError):
        check_join_way([], None)
    with pytest.raises(InvalidInputError):
        check_join_way(["wr1"], "x" * 41)


# -- action params -------------------------------------------------------------------------


def test_a_message_needs_text_or_attachments() -> None:
    with pytest.raises(ValidationError):
        WelcomeParams.model_validate({})
    assert WelcomeParams.model_validate({"text": "hi"}).content() == {"text": {"content": "hi"}}


def test_a_message_takes_at_most_nine_attachments() -> None:
    link = {"msgtype": "link", "title": "Coupon", "url": "https://example.com/c"}
    WelcomeParams.model_validate({"attachments": [link] * 9})
    with pytest.raises(ValidationError):
        WelcomeParams.model_validate({"attachments": [link] * 10})


def test_attachments_take_wecoms_nested_shape() -> None:
    params = MassMessageParams.model_validate(
        {"attachments": [{"msgtype": "image", "media_id": "MEDIA"}]}
    )

    assert attachment_json(params.attachments[0]) == {
        "msgtype": "image",
        "image": {"media_id": "MEDIA"},
    }


def test_params_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        MassMessageParams.model_validate({"text": "hi", "chat_type": "group"})
    with pytest.raises(ValidationError):
        WelcomeParams.model_validate({"text": "hi", "colour": "red"})


def test_tag_needs_something_to_add_or_remove() -> None:
    with pytest.raises(ValidationError):
        TagParams.model_validate({"add_tag": [], "remove_tag": []})
    with pytest.raises(ValidationError):
        TagParams.model_validate({"add_tag": ["t1"], "remove_tag": ["t1"]})
    assert TagParams.model_validate({"remove_tag": ["t1"]}).remove_tag == ["t1"]


def test_transfer_needs_two_different_staff_members() -> None:
    with pytest.raises(ValidationError):
        TransferParams.model_validate(
            {"kind": "on_job", "handover_userid": "zhang", "takeover_userid": "zhang"}
        )


def test_every_action_documents_its_params() -> None:
    for spec in WeComConnector.actions.values():
        schema = spec.params_model.model_json_schema()
        assert schema.get("additionalProperties") is False, spec.name
        for name, field in spec.params_model.model_fields.items():
            assert field.description, f"{spec.name}.{name}"


async def test_bad_params_fail_before_any_call() -> None:
    from connectors.base import ActionRequest, CustomerContact

    connector = WeComConnector(client=None, allowances=None, transfers=None)  # type: ignore[arg-type]
    request = ActionRequest(
        tenant_id="acme",
        enrollment_id="e",
        node_id="n",
        action="tag",
        params={},
        idempotency_key="k",
        customer=CustomerContact(customer_id="c"),
    )

    with pytest.raises(InvalidActionParamsError):
        await connector.execute(request)


# -- frequency limits ----------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_limiter_admits_up_to_the_minute_limit_then_asks_to_retry_later() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_minute=3, per_hour=100, max_wait=1.0, clock=time.clock)
    for _ in range(3):
        await limiter.acquire("ww1", "externalcontact/mark_tag")

    with pytest.raises(TransientChannelError) as caught:
        await limiter.acquire("ww1", "externalcontact/mark_tag")

    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60
    await limiter.acquire("ww1", "externalcontact/add_msg_template")  # another API
    await limiter.acquire("ww2", "externalcontact/mark_tag")  # another corp


async def test_limiter_admits_again_once_the_minute_has_passed() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_minute=2, per_hour=100, max_wait=1.0, clock=time.clock)
    await limiter.acquire("ww1", "api")
    await limiter.acquire("ww1", "api")

    time.now += 60

    await limiter.acquire("ww1", "api")


async def test_limiter_waits_in_place_when_the_delay_is_short() -> None:
    time = FakeTime()
    limiter = RateLimiter(
        per_minute=1, per_hour=100, max_wait=1.0, clock=time.clock, sleep=time.sleep
    )
    time.now = 1_000_000.2
    await limiter.acquire("ww1", "api")
    time.now = 1_000_059.6  # 0.4 s before the first call's second leaves the minute

    await limiter.acquire("ww1", "api")

    assert len(time.slept) == 1 and 0 < time.slept[0] <= 1.0


async def test_limiter_enforces_the_hour_limit() -> None:
    time = FakeTime()
    limiter = RateLimiter(per_minute=10, per_hour=15, max_wait=1.0, clock=time.clock)
    for _ in range(10):
        await limiter.acquire("ww1", "api")
    time.now += 60
    for _ in range(5):
        await limiter.acquire("ww1", "api")

    with pytest.raises(TransientChannelError) as caught:
        await limiter.acquire("ww1", "api")

    assert caught.value.retry_after is not None and caught.value.retry_after > 60


async def test_a_blocked_api_is_refused_until_the_block_ends() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock)
    limiter.block("ww1", "api", 60)

    with pytest.raises(TransientChannelError):
        await limiter.acquire("ww1", "api")
    time.now += 61
    await limiter.acquire("ww1", "api")
