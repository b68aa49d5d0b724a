from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card
from tulpar.balance import service as balance_service

pytestmark = pytest.mark.embedded_smoke


def test_a_card_with_a_plan_shows_its_balance(session: Session) -> None:
    card, bundle = create_active_card(session)

    balance = balance_service.balance_of(session, card)

    assert balance.state == "active"
    assert balance.data_bytes.remaining == bundle.data_bytes_granted
    assert balance.validity_ends_at == bundle.expires_at


def test_the_database_is_postgresql(session: Session) -> None:
    assert session.execute(text("SELECT version()")).scalar_one().startswith("PostgreSQL")
