"""WeCom credentials and the allowance/transfer ledgers against a real MongoDB-wire server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from domain.channels import WeComCredentials
from domain.errors import ConflictError
from store.database import Store

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
T0 = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)


def credentials(
    tenant: str = "acme", callback_id: str = "cb-acme-0123456789ab"
) -> WeComCredentials:
    return WeComCredentials(
        tenant_id=tenant,
        corp_id=f"ww-{tenant}",
        secret=SecretStr("app-secret-value"),
        callback_token=SecretStr("callback-token-value"),
        encoding_aes_key=SecretStr(AES_KEY),
        callback_id=callback_id,
    )


async def test_credentials_round_trip_with_their_secrets(store: Store) -> None:
    await store.wecom_credentials.put(credentials())

    found = await store.wecom_credentials.get("acme")

    assert found == credentials()
    assert found is not None and found.secret.get_secret_value() == "app-secret-value"
    assert await store.wecom_credentials.get("other") is None


async def test_credentials_are_found_by_callback_id(store: Store) -> None:
    await store.wecom_credentials.put(credentials())
    await store.wecom_credentials.put(credentials("globex", "cb-globex-0123456789"))

    found = await store.wecom_credentials.by_callback_id("cb-globex-0123456789")

    assert found is not None and found.tenant_id == "globex"
    assert await store.wecom_credentials.by_callback_id("cb-nobody-0123456789") is None


async def test_putting_credentials_again_replaces_them(store: Store) -> None:
    await store.wecom_credentials.put(credentials())
    changed = credentials().model_copy(update={"mass_message_limit": "per_day_1"})

    await store.wecom_credentials.put(changed)

    found = await store.wecom_credentials.get("acme")
    assert found is not None and found.mass_message_limit == "per_day_1"


async def test_a_callback_id_cannot_serve_two_tenants(store: Store) -> None:
    await store.wecom_credentials.put(credentials())

    with pytest.raises(ConflictError):
        await store.wecom_credentials.put(credentials("globex"))

    assert await store.wecom_credentials.get("globex") is None


async def test_stored_credentials_never_print_their_secrets(store: Store) -> None:
    await store.wecom_credentials.put(credentials())
    found = await store.wecom_credentials.get("acme")

    shown = repr(found) + str(found) + str(found.public() if found else "")

    for secret in ("app-secret-value", "callback-token-value", AES_KEY):
        assert secret not in shown


async def test_allowance_refuses_the_reservation_over_the_limit(store: Store) -> None:
    ledger = store.wecom_allowances
    granted = [await ledger.reserve("acme", "wm-1", "2026-11", 3, f"k{i}") for i in range(4)]

    assert granted == [True, True, True, False]
    assert await ledger.used("acme", "wm-1", "2026-11") == 3


async def test_allowance_counts_a_retried_key_once(store: Store) -> None:
    ledger = store.wecom_allowances

    assert await ledger.reserve("acme", "wm-1", "2026-11", 2, "k1")
    assert await ledger.reserve("acme", "wm-1", "2026-11", 2, "k1")
    # A retry in the next period finds its first reservation instead of taking another.
    assert await ledger.reserve("acme", "wm-1", "2026-12", 2, "k1")

    assert await ledger.used("acme", "wm-1", "2026-11") == 1
    assert await ledger.used("acme", "wm-1", "2026-12") == 0


async def test_concurrent_reservations_never_pass_the_limit(store: Store) -> None:
    ledger = store.wecom_allowances

    granted = await asyncio.gather(
        *(ledger.reserve("acme", "wm-1", "2026-11", 5, f"k{i}") for i in range(20))
    )

    assert sum(granted) == 5
    assert await ledger.used("acme", "wm-1", "2026-11") == 5


async def test_allowances_are_per_customer_period_and_tenant(store: Store) -> None:
    ledger = store.wecom_allowances
    assert await ledger.reserve("acme", "wm-1", "2026-11-15", 1, "a")

    assert not await ledger.reserve("acme", "wm-1", "2026-11-15", 1, "b")
    assert await ledger.reserve("acme", "wm-2", "2026-11-15", 1, "c")
    assert await ledger.reserve("acme", "wm-1", "2026-11-16", 1, "d")
    assert await ledger.reserve("globex", "wm-1", "2026-11-15", 1, "a")


async def test_released_allowance_can_be_reserved_again(store: Store) -> None:
    ledger = store.wecom_allowances
    assert await ledger.reserve("acme", "wm-1", "2026-11", 1, "k1")

    assert await ledger.release("acme", "k1")
    assert not await ledger.release("acme", "k1")
    assert await ledger.reserve("acme", "wm-1", "2026-11", 1, "k2")
    assert await ledger.used("acme", "wm-1", "2026-11") == 1


async def test_releases_can_empty_several_period_documents_of_a_tenant(store: Store) -> None:
    ledger = store.wecom_allowances
    assert await ledger.reserve("acme", "wm-1", "2026-11", 1, "k1")
    assert await ledger.reserve("acme", "wm-2", "2026-11", 1, "k2")

    assert await ledger.release("acme", "k1")
    assert await ledger.release("acme", "k2")

    assert await ledger.used("acme", "wm-1", "2026-11") == 0
    assert await ledger.used("acme", "wm-2", "2026-11") == 0
    assert await ledger.reserve("acme", "wm-1", "2026-11", 1, "k3")
    assert await ledger.reserve("acme", "wm-2", "2026-11", 1, "k4")
    assert not await ledger.reserve("acme", "wm-2", "2026-11", 1, "k5")


async def test_transfers_are_counted_within_the_window(store: Store) -> None:
    ledger = store.wecom_transfers
    await ledger.record("acme", "wm-1", T0 - timedelta(days=100), "t1")
    await ledger.record("acme", "wm-1", T0 - timedelta(days=10), "t2")
    await ledger.record("acme", "wm-1", T0 - timedelta(days=10), "t2")
    await ledger.record("acme", "wm-2", T0, "t3")
    await ledger.record("globex", "wm-1", T0, "t1")

    since = T0 - timedelta(days=90)
    assert await ledger.count_since("acme", "wm-1", since) == 1
    assert await ledger.recorded("acme", "t2")
    assert not await ledger.recorded("globex", "t2")
    assert await ledger.count_since("acme", "wm-1", T0 - timedelta(days=365)) == 2
