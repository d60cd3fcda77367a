"""Consent per channel: a record (status, source, time), read from older documents too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain.customers import ChannelConsent, Customer
from domain.deliveries import opted_out_reason

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def customer(consent: object) -> Customer:
    return Customer.model_validate(
        {"id": "cus_1", "tenant_id": "t", "consent": consent, "created_at": T0, "updated_at": T0}
    )


def test_a_bare_boolean_reads_as_a_record_of_unknown_source_and_time() -> None:
    model = customer({"sms": True, "email": False})
    assert model.consent == {
        "sms": ChannelConsent(status="opted_in", source="unknown", at=None),
        "email": ChannelConsent(status="opted_out", source="unknown", at=None),
    }
    assert model.consent["sms"].granted and not model.consent["email"].granted


def test_records_and_booleans_may_sit_side_by_side() -> None:
    model = customer({"sms": {"status": "opted_out", "source": "sms_reply", "at": T0}, "oa": True})
    assert model.consent["sms"] == ChannelConsent(status="opted_out", source="sms_reply", at=T0)
    assert model.consent["oa"].status == "opted_in"


def test_opted_out_answers_only_a_refusal() -> None:
    model = customer({"sms": {"status": "opted_out", "source": "sms_reply", "at": T0}, "oa": True})
    assert model.opted_out("sms") == model.consent["sms"]
    assert model.opted_out("oa") is None
    assert model.opted_out("email") is None  # never asked: not a refusal


def test_a_record_round_trips_through_its_stored_shape() -> None:
    record = ChannelConsent.of(False, "email_unsubscribe", T0)
    stored = customer({"email": record.model_dump()})
    assert stored.consent["email"] == record


def test_a_malformed_record_or_source_is_refused() -> None:
    with pytest.raises(ValidationError):
        customer({"sms": {"status": "maybe"}})
    with pytest.raises(ValidationError):
        ChannelConsent.of(True, "Not A Source", T0)


def test_the_skip_reason_names_the_channel_the_source_and_the_time() -> None:
    reason = opted_out_reason("sms", "sms_reply", T0)
    assert reason.startswith("consent_opted_out: the customer opted out of sms")
    assert "source sms_reply at 2026-03-01T10:00:00+00:00" in reason
