"""Shared steps of the payment-safety tests (issue 12, defects 2-4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tulpar.app import create_app

# A production configuration with nothing unsafe in it: real secrets, a real SMS provider.
SAFE_PRODUCTION = {
    "environment": "production",
    "otp_secret": "o" * 40,
    "payment_link_secret": "l" * 40,
    "sms_provider": "http",
}

TABLES = ("orders", "payments", "idempotency_keys", "inbox_messages", "ledger_entries")


def snapshot(factory: sessionmaker[Session]) -> dict[str, object]:
    """Row counts of what a refusal must not touch, and every wallet's balance."""
    with factory() as session:
        counts: dict[str, object] = {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }
        counts["wallets"] = sorted(
            tuple(row) for row in session.execute(text("SELECT * FROM wallets")).all()
        )
        return counts


@pytest.fixture
def production(configure: Callable[..., None]) -> Callable[..., None]:
    """Switch this test to the safe production configuration (plus ``extra``)."""

    def apply(**extra: object) -> None:
        configure(**{**SAFE_PRODUCTION, **extra})

    return apply


@pytest.fixture
def api(committed: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client
